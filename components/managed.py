"""Prefect Managed: a `prefect:managed` pool runs on Prefect's own infrastructure.

Nothing to create in any cloud and no credentials block; the component exists so that
the Prefect side registers every pool the same way, with these template defaults.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from pushpools.components.config import PoolType
from pushpools.components.config.managed import ManagedSettings
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


ARGS = ArgsSpec(
    component="ManagedPool",
    default_type=PoolType.PREFECT_MANAGED,
    takes_labels=False,
    keys={"env": "managed.env", "pip_packages": "managed.pip_packages"},
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
