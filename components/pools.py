"""From a pool's stack config to the component of its cloud, through its typed args.

The stack program uses the components exactly as any other program does: each pool's
validated config becomes the component's args. Each cloud's module (and so its provider
SDK, hundreds of megabytes) is imported only when a stack declares a pool of that cloud.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pulumi

from pushpools.components.config import Cloud, PoolConfig
from pushpools.components.config.errors import NAMESPACE
from pushpools.components.pool_args import args_from_config
from pushpools.components.pool_component import PoolComponent

# cloud -> (module, component class)
_COMPONENTS: dict[Cloud, tuple[str, str]] = {
    Cloud.GCP: ("pushpools.components.gcp.pool", "CloudRunPushPool"),
    Cloud.AWS: ("pushpools.components.aws.pool", "EcsPushPool"),
    Cloud.AZURE: ("pushpools.components.azure.pool", "AciPushPool"),
    Cloud.MODAL: ("pushpools.components.modal.pool", "ModalPushPool"),
    Cloud.MANAGED: ("pushpools.components.managed.pool", "ManagedPool"),
}


def build_pool(
    pool: PoolConfig, stack_labels: Mapping[str, str], opts: pulumi.ResourceOptions | None = None
) -> PoolComponent:
    module_name, class_name = _COMPONENTS[pool.kind.cloud]
    module = importlib.import_module(module_name)
    args = args_from_config(module.ARGS, pool, stack_labels)
    args.update(_secret_args(pool))
    return getattr(module, class_name)(pool.name, args, opts)


def _secret_args(pool: PoolConfig) -> dict[str, Any]:
    """Args the stack reads from secret config keys, as Pulumi secrets."""
    if pool.modal is None:  # the one pool type with secret args (its model is checked)
        return {}
    # The loader has checked that both keys are set, as secrets.
    config = pulumi.Config(NAMESPACE)
    return {
        "token_id": config.require_secret(pool.modal.token_id_key),
        "token_secret": config.require_secret(pool.modal.token_secret_key),
    }
