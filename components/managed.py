"""Prefect Managed: a `prefect:managed` pool runs on Prefect's own infrastructure.

Nothing to create in any cloud and no credentials block; the component exists so that
the Prefect side registers every pool the same way, with these template defaults.
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
        self._finish(
            credentials_data=None,
            template_defaults=_template_defaults(managed),
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
