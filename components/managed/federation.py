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
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi_aws import get_caller_identity_output as caller_identity
from pulumi_aws import iam

from pushpools.components.aws.web_identity import web_identity_trust_policy
from pushpools.components.managed.settings import AwsFederatedIdentity
from pushpools.components.tagging import resource_labels, slug

PREFECT_OIDC_ISSUER = "https://api.prefect.cloud/oidc-provider"
PREFECT_OIDC_AUDIENCE = "prefect-cloud"
# IAM names a provider by its URL without the scheme; its condition keys start with it.
_ISSUER_HOST_PATH = PREFECT_OIDC_ISSUER.removeprefix("https://")
SHARED_PROVIDER_NAME = "prefect-cloud-oidc-provider"


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
    if identity.create_oidc_provider:
        provider_arn = _shared_provider(stack_labels).arn
    else:
        provider_arn = caller_identity().account_id.apply(
            lambda account: f"arn:aws:iam::{account}:oidc-provider/{_ISSUER_HOST_PATH}"
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


# One provider per AWS account, whichever pools use it: declared once per program run,
# at the stack's level (not under one pool, whose removal would then remove it).
_PROVIDERS: dict[int, tuple[object, iam.OpenIdConnectProvider]] = {}


def _shared_provider(stack_labels: dict[str, str]) -> iam.OpenIdConnectProvider:
    monitor = pulumi.runtime.settings.get_monitor()  # one per program run
    cached = _PROVIDERS.get(id(monitor))
    if cached is not None and cached[0] is monitor:
        return cached[1]
    provider = iam.OpenIdConnectProvider(
        SHARED_PROVIDER_NAME,
        url=PREFECT_OIDC_ISSUER,
        client_id_lists=[PREFECT_OIDC_AUDIENCE],
        # Shared by the stack's Prefect Managed pools with a federated identity.
        tags=resource_labels(stack_labels, "shared"),
    )
    _PROVIDERS.clear()  # a new run: the previous run's provider is gone with it
    _PROVIDERS[id(monitor)] = (monitor, provider)
    return provider
