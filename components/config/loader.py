"""Reading the `pushpools:` namespace of the stack config into a validated model."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from components.config.errors import NAMESPACE, ConfigError, describe_validation_error
from components.config.stack import StackConfig

# Top-level keys holding secrets (set with `pulumi config set --secret`). They are read
# as Pulumi secrets where they are used and never enter the validated model.
SECRET_KEYS: frozenset[str] = frozenset()


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
    allowed = set(StackConfig.model_fields) | SECRET_KEYS
    values: dict[str, Any] = {}
    problems: list[str] = []
    for full_key, raw in sorted(runtime_config.CONFIG.get().items()):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        if key not in allowed:
            problems.append(f"{full_key}: unknown key; allowed keys: {', '.join(sorted(allowed))}")
        elif key in SECRET_KEYS:
            continue
        elif runtime_config.is_config_secret(full_key):
            problems.append(
                f"{full_key}: is stored as a secret, but holds no credential; "
                "set it with plain `pulumi config set`"
            )
        else:
            values[key] = _decode(raw)
    return values, problems


def _decode(raw: Any) -> Any:
    # Pulumi hands structured values (lists, maps) to the program as JSON text.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw
