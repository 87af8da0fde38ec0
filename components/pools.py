"""From a pool's config to the component of its cloud.

Each cloud's module (and so its provider SDK, hundreds of megabytes) is imported only
when a stack declares a pool of that cloud.
"""

from __future__ import annotations

import importlib

import pulumi

from pushpools.components.config import Cloud, PoolConfig
from pushpools.components.pool_component import PoolComponent

# cloud -> (module, component class)
_COMPONENTS: dict[Cloud, tuple[str, str]] = {
    Cloud.GCP: ("pushpools.components.cloud_run", "CloudRunPushPool"),
    Cloud.AWS: ("pushpools.components.ecs", "EcsPushPool"),
    Cloud.AZURE: ("pushpools.components.aci", "AciPushPool"),
    Cloud.MODAL: ("pushpools.components.modal", "ModalPushPool"),
    Cloud.MANAGED: ("pushpools.components.managed", "ManagedPool"),
}


def build_pool(
    pool: PoolConfig, stack_labels: dict[str, str], opts: pulumi.ResourceOptions | None = None
) -> PoolComponent:
    module_name, class_name = _COMPONENTS[pool.kind.cloud]
    component_class = getattr(importlib.import_module(module_name), class_name)
    return component_class(pool, stack_labels, opts)
