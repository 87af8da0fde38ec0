"""Reading the `pushpools:` namespace of the stack config into a validated model."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from pushpools.components.config.errors import NAMESPACE, ConfigError, describe_validation_error
from pushpools.components.config.prefect import SECRET_KEYS as PREFECT_SECRET_KEYS
from pushpools.components.config.stack import PoolConfig, StackConfig

# Top-level keys holding secrets (set with `pulumi config set --secret`). They are read
# as Pulumi secrets where they are used and never enter the validated model. Pools may
# name more such keys (a Modal pool names the keys of its token): see secret_config_keys.
SECRET_KEYS: frozenset[str] = frozenset(PREFECT_SECRET_KEYS)


def load_stack_config() -> StackConfig:
    """Validate the stack config, or raise ConfigError listing every problem in it."""
    values, problems = _namespace_values()
    try:
        stack = StackConfig.model_validate(values)
    except ValidationError as error:
        problems += describe_validation_error(error, StackConfig)
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return stack


def _namespace_values() -> tuple[dict[str, Any], list[str]]:
    config = runtime_config.CONFIG.get()
    named, every_pool_valid = _secret_keys_named_by_pools(config.get(f"{NAMESPACE}:pools"))
    secret_keys = (SECRET_KEYS | set(named)) - set(StackConfig.model_fields)
    allowed = set(StackConfig.model_fields) | secret_keys
    values: dict[str, Any] = {}
    problems = _named_secret_problems(named, config)
    for full_key, raw in sorted(config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        if key not in allowed:
            # An invalid pool may be the one naming this key: say so once the pools are valid.
            if every_pool_valid:
                problems.append(
                    f"{full_key}: unknown key; allowed keys: {', '.join(sorted(allowed))}"
                )
        elif key in secret_keys:
            continue
        elif runtime_config.is_config_secret(full_key):
            problems.append(
                f"{full_key}: is stored as a secret, but holds no credential; "
                "set it with plain `pulumi config set`"
            )
        else:
            values[key] = _decode(raw)
    return values, problems


def _secret_keys_named_by_pools(raw_pools: Any) -> tuple[dict[str, str], bool]:
    """The secret keys the pools name -> the setting that names each; and whether every
    pool was valid (an invalid one may name keys we cannot know)."""
    pools = _decode(raw_pools)
    named: dict[str, str] = {}
    every_pool_valid = True
    for index, pool in enumerate(pools if isinstance(pools, list) else []):
        try:
            settings = PoolConfig.model_validate(pool)
        except ValidationError:
            every_pool_valid = False
            continue
        for key, setting in settings.secret_config_keys().items():
            named.setdefault(key, f"{NAMESPACE}:pools[{index}].{setting}")
    return named, every_pool_valid


def _named_secret_problems(named: dict[str, str], config: dict[str, Any]) -> list[str]:
    problems = []
    for key, named_by in sorted(named.items()):
        full_key = f"{NAMESPACE}:{key}"
        how = f"set it with `pulumi config set --secret {full_key} <value>`"
        if key in StackConfig.model_fields:
            problems.append(f"{named_by}: {key!r} is a stack setting, not a place for a secret")
        elif full_key not in config:
            problems.append(f"{full_key}: required by {named_by}, but not set; {how}")
        elif not runtime_config.is_config_secret(full_key):
            problems.append(
                f"{full_key}: holds a credential (named by {named_by}) but is stored in "
                f"plain text; {how}"
            )
    return problems


def _decode(raw: Any) -> Any:
    # Pulumi hands structured values (lists, maps) to the program as JSON text.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw
