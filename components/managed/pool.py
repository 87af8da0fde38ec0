"""Prefect Managed: a `prefect:managed` pool runs on Prefect's own infrastructure.

No credentials block. Nothing in any cloud either, unless the flow runs reach AWS with a
federated identity: then an IAM role they assume with Prefect Cloud's OIDC token (see
federation.py), whose ARN the template's `federated_identity` defaults to. The
AWS SDK is imported only for pools that have one.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from pushpools.components.config import Cloud
from pushpools.components.managed.settings import ManagedSettings
from pushpools.components.pool_component import PoolComponent


class AwsPermissionArgs(TypedDict):
    """One grant of the federated role (`statements[]` of `aws_federated_identity`)."""

    actions: list[str]
    resources: list[str]


class AwsFederatedIdentityArgs(TypedDict):
    """The IAM role Prefect Cloud assumes for each flow run (`aws_federated_identity` of the
    `managed` section, described by `AwsFederatedIdentity`)."""

    prefect_account_id: str
    region: str
    role_name: NotRequired[str]
    managed_policy_arns: NotRequired[list[str]]
    statements: NotRequired[list[AwsPermissionArgs]]
    create_oidc_provider: NotRequired[bool]


class ManagedPoolArgs(TypedDict):
    """The `managed` section of a Prefect Managed pool in the stack config, with the same
    keys (each described by `ManagedSettings`), and the pool-level `labels` (tags of the
    AWS role of `aws_federated_identity`)."""

    env: NotRequired[dict[str, str]]
    pip_packages: NotRequired[list[str]]
    aws_federated_identity: NotRequired[AwsFederatedIdentityArgs]
    labels: NotRequired[dict[str, str]]


class ManagedPool(PoolComponent):
    """One Prefect Managed work pool: template defaults only."""

    RESOURCE_TYPE = "pushpools:prefect:ManagedPool"
    CLOUD = Cloud.MANAGED

    def __init__(
        self,
        name: str,
        args: ManagedPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        name = self.pool_name
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
