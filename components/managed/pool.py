"""Prefect Managed: a `prefect:managed` pool runs on Prefect's own infrastructure.

No credentials block. Nothing in any cloud either, unless the flow runs reach AWS with a
federated identity: then an IAM role they assume with Prefect Cloud's OIDC token (see
managed_federation.py), whose ARN the template's `federated_identity` defaults to. The
AWS SDK is imported only for pools that have one.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from pushpools.components.config import PoolType
from pushpools.components.managed.settings import ManagedSettings
from pushpools.components.pool_args import ArgsSpec
from pushpools.components.pool_component import PoolComponent


class ManagedPoolArgs(TypedDict):
    """The arguments of a Prefect Managed pool; each is the stack-config key named in
    brackets."""

    env: NotRequired[dict[str, str]]
    """Environment variables of every flow run [managed.env]; no secrets: template defaults
    are plain text in Prefect."""
    pip_packages: NotRequired[list[str]]
    """Packages installed before each run, e.g. `pandas>=2` [managed.pip_packages]."""
    aws_federated_identity: NotRequired["AwsFederatedIdentityArgs"]
    """An AWS role each flow run assumes with Prefect Cloud's OIDC token, so that no key is
    stored anywhere [managed.aws_federated_identity]; default: none."""
    labels: NotRequired[dict[str, str]]
    """Tags for the AWS resources of `aws_federated_identity`, besides managed-by and
    prefect-work-pool [labels]."""


class AwsPermissionArgs(TypedDict):
    """One grant of the federated role: these actions, allowed on these resources."""

    actions: list[str]
    """IAM actions, `service:Action` (wildcards allowed), e.g. `s3:GetObject`."""
    resources: list[str]
    """ARNs the actions are allowed on (or `*` where AWS authorizes an action only there)."""


class AwsFederatedIdentityArgs(TypedDict):
    """The IAM role Prefect Cloud assumes for each flow run of the pool."""

    prefect_account_id: str
    """The Prefect Cloud account whose runs may assume the role (the UUID after
    `/accounts/` in the API URL)."""
    region: str
    """The AWS region Prefect injects into each run as AWS_REGION."""
    role_name: NotRequired[str]
    """Name of the IAM role; unique per AWS account; default `<name>-flow-runs`."""
    managed_policy_arns: NotRequired[list[str]]
    """Managed policies attached to the role (what the flow runs need)."""
    statements: NotRequired[list[AwsPermissionArgs]]
    """An inline policy of the role: each entry allows its actions on its resources."""
    create_oidc_provider: NotRequired[bool]
    """Create the IAM OIDC identity provider for Prefect Cloud's issuer (one per AWS
    account); false where it already exists in the account. Default true."""


ARGS = ArgsSpec(
    component="ManagedPool",
    default_type=PoolType.PREFECT_MANAGED,
    keys={
        "env": "managed.env",
        "pip_packages": "managed.pip_packages",
        "aws_federated_identity": "managed.aws_federated_identity",
    },
    # The stack config accepts a block name on every pool; a Managed pool has no block, so
    # it has no use for one (as before this API). `naming` is refused for Managed pools:
    # the federated role's name is derived from the pool's name whatever the mode.
    handled_by_the_stack=frozenset(
        {"name", "description", "prefect", "credentials_block_name", "naming"}
    ),
)


class ManagedPool(PoolComponent):
    """One Prefect Managed work pool: template defaults only."""

    def __init__(
        self,
        name: str,
        args: ManagedPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:prefect:ManagedPool", name, ARGS, args, opts)
        managed = self._cloud_settings(ManagedSettings)
        defaults: dict[str, Any] = _template_defaults(managed)
        identity = managed.aws_federated_identity
        if identity is not None:
            from pushpools.components.managed.federation import federated_role

            role = federated_role(name, identity, self._labels, parent=self)
            defaults["federated_identity"] = role.arn.apply(
                lambda arn: federated_identity_default(arn, identity.region)
            )
        self._finish(
            credentials_data=None,
            template_defaults=defaults,
            image_namespace=None,
        )


def _template_defaults(managed: ManagedSettings) -> dict[str, Any]:
    # Only what the config sets: Prefect's own defaults stay in force for the rest.
    defaults: dict[str, Any] = {}
    if managed.env:
        defaults["env"] = managed.env
    if managed.pip_packages:
        defaults["pip_packages"] = managed.pip_packages
    return defaults


def federated_identity_default(role_arn: str, region: str) -> dict[str, str]:
    """The `federated_identity` job variable, in the shape Prefect documents for it."""
    return {"kind": "aws", "aws_role_arn": role_arn, "aws_region_name": region}
