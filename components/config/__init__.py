"""The stack config: one validated model, read from the `pushpools:` namespace."""

from components.config.errors import ConfigError
from components.config.loader import load_stack_config
from components.config.pool_types import Cloud, PoolKind, PoolType
from components.config.stack import PoolConfig, StackConfig

__all__ = [
    "Cloud",
    "ConfigError",
    "PoolConfig",
    "PoolKind",
    "PoolType",
    "StackConfig",
    "load_stack_config",
]
