"""Reading the `pushpools:` namespace of the stack config into a validated model.

Every problem is reported in one pass: a misspelt top-level key, an invalid pool, pools
that collide and a Prefect connection problem all show in the first run, never in rounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from pushpools.components.config.errors import NAMESPACE, ConfigError, describe_errors
from pushpools.components.config.pool_types import PoolType
from pushpools.components.config.prefect import SECRET_KEYS as PREFECT_SECRET_KEYS
from pushpools.components.config.prefect import PrefectSettings, resolve_registration
from pushpools.components.config.stack import (
    PoolConfig,
    StackConfig,
    collision_problems,
    label_problems,
)

# Top-level keys holding secrets (set with `pulumi config set --secret`). They are read
# as Pulumi secrets where they are used and never enter the validated model. Pools may
# name more such keys (a Modal pool names the keys of its token): see secret_config_keys.
SECRET_KEYS: frozenset[str] = frozenset(PREFECT_SECRET_KEYS)

_LABELS = SchemaValidator(cs.dict_schema(cs.str_schema(), cs.str_schema()))


@dataclass(frozen=True)
class _Pools:
    """What could be read of `pushpools:pools` before validating the whole stack."""

    valid: list[tuple[int, PoolConfig]]
    """The pools that are valid on their own, with their index."""
    complete: bool
    """Every pool is valid: the secret keys they name are exactly known."""
    named_secrets: dict[str, str]
    """Secret keys the valid pools name -> the setting that names each."""
    maybe_named: frozenset[str]
    """Secret keys invalid pools seem to name: not called unknown while they are fixed."""


def load_stack_config() -> StackConfig:
    """Validate the stack config, or raise ConfigError listing every problem in it,
    including those of the Prefect registration the program resolves next."""
    values, withheld, problems = _namespace_values()
    stack, stack_problems = _validate(values, withheld)
    problems += stack_problems
    problems += _registration_problems(values, stack)
    if problems:
        raise ConfigError(problems)
    assert stack is not None  # no problems: the model validated
    return stack


def _validate(values: dict[str, Any], withheld: set[str]) -> tuple[StackConfig | None, list[str]]:
    try:
        return StackConfig.model_validate(values), []
    except ValidationError as error:
        errors = [
            e for e in error.errors() if not (e["type"] == "missing" and e["loc"][0] in withheld)
        ]
        if not errors:
            return None, []
        problems = describe_errors(errors, StackConfig)
        if any(e["loc"] for e in errors):
            # A field failed, so the checks across pools did not run: run them on the pools
            # that are valid, so that their problems show in this pass too.
            pools = _read_pools(values.get("pools")).valid
            problems += collision_problems(pools)
            problems += label_problems(_valid_labels(values.get("labels")), pools)
        return None, problems


def _registration_problems(values: dict[str, Any], stack: StackConfig | None) -> list[str]:
    if stack is not None:
        settings, pools = stack.prefect, list(enumerate(stack.pools))
    else:
        try:
            settings = PrefectSettings.model_validate(values.get("prefect") or {})
        except ValidationError:
            return []  # reported with the stack's problems; nothing to resolve against
        pools = _read_pools(values.get("pools")).valid
    return resolve_registration(settings.enabled, settings.api_url, pools)[1]


def _namespace_values() -> tuple[dict[str, Any], set[str], list[str]]:
    """The plain settings; the keys withheld from them (stored as secrets although they
    hold no credential: already a problem, never also "required"); and the problems."""
    config = runtime_config.CONFIG.get()
    pools = _read_pools(config.get(f"{NAMESPACE}:pools"))
    secret_keys = (SECRET_KEYS | set(pools.named_secrets) | pools.maybe_named) - set(
        StackConfig.model_fields
    )
    allowed = set(StackConfig.model_fields) | secret_keys
    values: dict[str, Any] = {}
    withheld: set[str] = set()
    problems = _named_secret_problems(pools.named_secrets, config)
    for full_key, raw in sorted(config.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        is_secret = runtime_config.is_config_secret(full_key)
        if key not in allowed:
            # An encrypted key may be a credential that a pool we cannot read names.
            if pools.complete or not is_secret:
                problems.append(
                    f"{full_key}: unknown key; allowed keys: {', '.join(sorted(allowed))}"
                )
        elif key in PREFECT_SECRET_KEYS:
            if not is_secret:
                problems.append(_plain_text_credential(full_key, "a credential"))
        elif key in secret_keys:
            continue  # checked with the pool that names it (once that pool is valid)
        elif is_secret:
            withheld.add(key)
            problems.append(
                f"{full_key}: is stored as a secret (or holds one), but is a setting, not a "
                f"credential; set it in plain text with `pulumi config set` (the only "
                f"secrets are {', '.join(sorted(secret_keys))})"
            )
        else:
            values[key] = _decode(raw)
    return values, withheld, problems


def _plain_text_credential(full_key: str, what: str) -> str:
    # Refused whether or not the pools are registered: the stack file is shared.
    return (
        f"{full_key}: holds {what} but is stored in plain text; set it with "
        f"`pulumi config set --secret {full_key} <value>`"
    )


def _read_pools(raw_pools: Any) -> _Pools:
    pools = _decode(raw_pools)
    valid: list[tuple[int, PoolConfig]] = []
    named: dict[str, str] = {}
    maybe_named: set[str] = set()
    complete = isinstance(pools, list)
    for index, pool in enumerate(pools if isinstance(pools, list) else []):
        try:
            settings = PoolConfig.model_validate(pool)
        except ValidationError:
            complete = False
            maybe_named |= _secret_keys_of_invalid_pool(pool)
            continue
        valid.append((index, settings))
        for key, setting in settings.secret_config_keys().items():
            named.setdefault(key, f"{NAMESPACE}:pools[{index}].{setting}")
    return _Pools(valid, complete, named, frozenset(maybe_named))


def _secret_keys_of_invalid_pool(pool: Any) -> set[str]:
    """The secret keys an invalid pool most likely names (its Modal token's), so that
    they are not called unknown while the pool itself is being fixed."""
    if not isinstance(pool, dict):
        return set()
    section = pool.get("modal")
    if section is None and pool.get("type") != PoolType.MODAL_PUSH.value:
        return set()
    section = section if isinstance(section, dict) else {}
    from pushpools.components.modal.settings import ModalSettings  # only for Modal pools

    keys = set()
    for field in ("token_id_key", "token_secret_key"):
        key = section.get(field, ModalSettings.model_fields[field].default)
        if isinstance(key, str):
            keys.add(key)
    return keys


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
            problems.append(_plain_text_credential(full_key, f"a credential (named by {named_by})"))
    return problems


def _valid_labels(raw: Any) -> dict[str, str]:
    try:
        return _LABELS.validate_python(raw if raw is not None else {})
    except ValidationError:
        return {}


def _decode(raw: Any) -> Any:
    # Pulumi hands structured values (lists, maps) to the program as JSON text.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw
