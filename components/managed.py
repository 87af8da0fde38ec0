"""Prefect Managed: a `prefect:managed` pool runs on Prefect's own infrastructure.

No credentials block. Nothing in any cloud either, unless the flow runs reach AWS with a
federated identity: then an IAM role they assume with Prefect Cloud's OIDC token (see
managed_federation.py), whose ARN the template's `federated_identity` defaults to. The
AWS SDK is imported only for pools that have one.
"""

from __future__ import annotations

from typing import Any

import pulumi

from pushpools.components.config import PoolConfig
from pushpools.components.config.managed import ManagedSettings
from pushpools.components.pool_component import PoolComponent


class ManagedPool(PoolComponent):
    """One Prefect Managed work pool: template defaults only."""

    def __init__(
        self,
        pool: PoolConfig,
        stack_labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:prefect:ManagedPool", pool, opts)
        managed = self._cloud_settings(ManagedSettings)
        defaults: dict[str, Any] = _template_defaults(managed)
        identity = managed.aws_federated_identity
        if identity is not None:
            from pushpools.components.managed_federation import federated_role

            role = federated_role(pool.name, identity, stack_labels, parent=self)
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
