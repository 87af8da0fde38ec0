"""The stack config: pure models of the `pushpools:` namespace (the loader that reads them
from Pulumi is components/loader.py)."""

from pushpools.components.config.pool_types import Cloud, PoolKind, PoolType
from pushpools.components.config.stack import PoolConfig, StackConfig

__all__ = [
    "Cloud",
    "PoolConfig",
    "PoolKind",
    "PoolType",
    "StackConfig",
]
