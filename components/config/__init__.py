"""The stack config: one validated model, read from the `pushpools:` namespace."""

from pushpools.components.config.errors import ConfigError
from pushpools.components.config.loader import load_stack_config
from pushpools.components.config.pool_types import Cloud, PoolKind, PoolType
from pushpools.components.config.stack import PoolConfig, StackConfig

__all__ = [
    "Cloud",
    "ConfigError",
    "PoolConfig",
    "PoolKind",
    "PoolType",
    "StackConfig",
    "load_stack_config",
]
