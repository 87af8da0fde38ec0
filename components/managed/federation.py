"""Keyless AWS access for Prefect Managed pools: Prefect Cloud as an OIDC identity provider.

Prefect documents it in "Using cloud workload identity with Prefect Managed work pools"
(https://docs.prefect.io/v3/how-to-guides/deployment_infra/managed-aws-federated-identity):
when a flow run of a `prefect:managed` pool starts, Prefect Cloud calls AWS STS
`AssumeRoleWithWebIdentity` with its token for the role named in the pool's
`federated_identity` job variable (`{"kind": "aws", "aws_role_arn", "aws_region_name"}`)
and injects the short-lived credentials as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN and AWS_REGION. The AWS account needs an IAM OIDC identity provider for
the issuer `https://api.prefect.cloud/oidc-provider` with the audience `prefect-cloud`,
and the role a trust policy limited to that audience and the subject
`prefect:account:<Prefect Cloud account ID>`. Nothing is stored anywhere: no key to leak,
none to rotate.

The subject names the Prefect Cloud *account*, the narrowest claim Prefect documents: a
run of any workspace of that account whose pool or deployment names this role may assume
it, so give each role only what its pool's flows need.

IAM holds one provider per issuer URL and account, which every stack of the account with a
federated role trusts. So it is looked up by default (an invoke at `pulumi preview`, which
stops with what to do if the account has none), and created only by the one stack that
says `create_oidc_provider: true`, which keeps it on destroy (`retain_on_delete`): the
other stacks' roles still trust it. Its owner is that stack, named in its tags.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi_aws import iam

from pushpools.components.aws.account_wide import AccountWide, is_not_found
from pushpools.components.aws.web_identity import web_identity_trust_policy
from pushpools.components.managed.settings import AwsFederatedIdentity
from pushpools.components.tagging import resource_labels, slug

PREFECT_OIDC_ISSUER = "https://api.prefect.cloud/oidc-provider"
PREFECT_OIDC_AUDIENCE = "prefect-cloud"
SHARED_PROVIDER_NAME = "prefect-cloud-oidc-provider"
SETTING = "managed.aws_federated_identity.create_oidc_provider"
OWNER_TAG = "pushpools-stack"
"""Tag of a provider a stack created: `<project>/<stack>` of the stack that owns it."""

_PROVIDER: AccountWide[pulumi.Output[str]] = AccountWide(
    "Prefect Cloud's IAM OIDC identity provider", SETTING
)


def trust_policy(provider_arn: str, prefect_account_id: str) -> dict[str, Any]:
    """Only Prefect Cloud's tokens for this account, meant for AWS, may assume the role."""
    return web_identity_trust_policy(
        provider_arn,
        PREFECT_OIDC_ISSUER,
        PREFECT_OIDC_AUDIENCE,
        f"prefect:account:{prefect_account_id}",
    )


def permissions_policy(identity: AwsFederatedIdentity) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": grant.actions, "Resource": grant.resources}
            for grant in identity.statements
        ],
    }


def federated_role(
    pool_name: str,
    identity: AwsFederatedIdentity,
    stack_labels: dict[str, str],
    parent: pulumi.Resource,
) -> iam.Role:
    """The role Prefect Cloud assumes for each flow run of the pool, and its permissions."""
    child = pulumi.ResourceOptions(parent=parent)
    create = identity.create_oidc_provider
    # Before anything of the pool: a missing provider stops the preview here.
    provider_arn = _PROVIDER.settle(
        create=create,
        pool=pool_name,
        component=type(parent).__name__,
        make=lambda: _created_provider(stack_labels) if create else _found_provider(pool_name),
    )
    role = iam.Role(
        f"{pool_name}-federated-role",
        # Filled in by the config layer (derived from the pool's name unless set).
        name=identity.role_name,
        description=f"Flow runs of the Prefect Managed work pool {pool_name} assume this role",
        assume_role_policy=provider_arn.apply(
            lambda arn: json.dumps(trust_policy(arn, identity.prefect_account_id))
        ),
        tags=resource_labels(stack_labels, pool_name),
        opts=child,
    )
    for arn in identity.managed_policy_arns:
        iam.RolePolicyAttachment(
            f"{pool_name}-federated-{slug(arn.rsplit(':', 1)[-1])}",
            role=role.name,
            policy_arn=arn,
            opts=child,
        )
    if identity.statements:
        iam.RolePolicy(
            f"{pool_name}-federated-permissions",
            name="flow-run-permissions",
            role=role.name,
            policy=json.dumps(permissions_policy(identity)),
            opts=child,
        )
    return role


def _created_provider(stack_labels: dict[str, str]) -> pulumi.Output[str]:
    provider = iam.OpenIdConnectProvider(
        SHARED_PROVIDER_NAME,
        url=PREFECT_OIDC_ISSUER,
        client_id_lists=[PREFECT_OIDC_AUDIENCE],
        tags={
            **resource_labels(stack_labels, "shared"),
            OWNER_TAG: f"{pulumi.get_project()}/{pulumi.get_stack()}",
        },
        # Other stacks' roles trust it: destroying this stack, or removing its last
        # federated pool, leaves it in the account.
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
    return provider.arn


def _found_provider(pool_name: str) -> pulumi.Output[str]:
    create_it = (
        f"set {SETTING}: true in one stack of this account (it then owns the provider, and "
        "keeps it on destroy), or create it once: aws iam create-open-id-connect-provider "
        f"--url {PREFECT_OIDC_ISSUER} --client-id-list {PREFECT_OIDC_AUDIENCE}"
    )
    try:
        found = iam.get_open_id_connect_provider(url=PREFECT_OIDC_ISSUER)
    except Exception as error:
        if not is_not_found(error):
            raise pulumi.RunError(
                f"pool {pool_name!r}: looking up the IAM OIDC identity provider for "
                f"{PREFECT_OIDC_ISSUER} failed ({error}); the deploy identity needs "
                "iam:ListOpenIDConnectProviders and iam:GetOpenIDConnectProvider, or "
                f"{create_it.removeprefix('set ')}"
            ) from None
        raise pulumi.RunError(
            f"pool {pool_name!r}: {SETTING} is false, but this AWS account has no IAM OIDC "
            f"identity provider for {PREFECT_OIDC_ISSUER}, which the role trusts; {create_it}"
        ) from None
    if PREFECT_OIDC_AUDIENCE not in (found.client_id_lists or []):
        raise pulumi.RunError(
            f"pool {pool_name!r}: the account's IAM OIDC identity provider for "
            f"{PREFECT_OIDC_ISSUER} does not list the audience {PREFECT_OIDC_AUDIENCE!r} "
            "(Prefect Cloud's tokens carry it), so AWS would refuse every flow run's token; "
            f"add it: aws iam add-client-id-to-open-id-connect-provider "
            f"--open-id-connect-provider-arn {found.arn} --client-id {PREFECT_OIDC_AUDIENCE}"
        )
    tags = found.tags or {}
    if tags.get("managed-by") == "pushpools" and OWNER_TAG not in tags:
        pulumi.log.warn(
            f"Prefect Cloud's IAM OIDC identity provider ({found.arn}) was created by a "
            f"pushpools stack before {SETTING} defaulted to false (it has no {OWNER_TAG} "
            f"tag). If this stack created it, set {SETTING}: true before `pulumi up`, or the "
            "update deletes it and every role that trusts it stops working."
        )
    return pulumi.Output.from_input(found.arn)
