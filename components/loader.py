"""The stack program's one loader: the `pushpools:` namespace of the stack config, its
secrets, the environment Prefect's tools read and the template files, each read once.

The config models themselves (components/config/, each cloud's settings.py) are pure: no
Pulumi, no files, no secrets. Every problem is reported in one pass: a misspelt top-level
key, an invalid pool, pools that collide and a Prefect connection problem all show in the
first run, never in rounds; nothing is declared before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from pushpools.components.config.api_key_secret import stored_credentials
from pushpools.components.config.errors import (
    NAMESPACE,
    a_or_an,
    describe_errors,
    is_misspelt_namespace,
    masked_text,
    misspelt_namespace_problem,
)
from pushpools.components.config.pool_types import KINDS, secret_setting
from pushpools.components.config.prefect import API_KEY, AUTH_STRING, PrefectSettings
from pushpools.components.config.prefect import SECRET_KEYS as PREFECT_SECRET_KEYS
from pushpools.components.config.stack import (
    PoolConfig,
    StackConfig,
    collision_problems,
    label_problems,
)

if TYPE_CHECKING:
    from pushpools.components.prefect.common import ConnectionArgs

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


class ConfigError(pulumi.RunError):
    """The stack config is invalid; nothing has been declared.

    A ``RunError`` makes ``pulumi up`` print the message without a traceback.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        # No credential a user pasted in the wrong place is ever echoed.
        self.problems = [masked_text(p) for p in problems]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid stack configuration ({count} {noun}):\n{lines}")


@dataclass(frozen=True)
class LoadedStack:
    """Everything the stack program needs, validated."""

    config: StackConfig
    registration: PrefectRegistration
    secrets: dict[str, dict[str, pulumi.Output[Any]]]
    """Pool name -> its kind's secret args (Modal's token), as Pulumi secrets."""


def load_stack(environ: Mapping[str, str] | None = None) -> LoadedStack:
    """Read and validate the stack config, or raise ConfigError listing every problem in
    it, including those of the Prefect registration, before anything is declared."""
    values, withheld, problems = _namespace_values()
    stack, stack_problems = _validate(values, withheld)
    problems += stack_problems
    if stack is None:
        problems += _registration_problems(values)
        raise ConfigError(problems)
    registration, registration_problems = resolve_registration(
        stack.prefect.enabled, stack.prefect.api_url, list(enumerate(stack.pools)), environ
    )
    problems += registration_problems
    if problems:
        raise ConfigError(problems)
    return LoadedStack(stack, registration, _secret_args(stack))


def load_stack_config() -> StackConfig:
    """The validated stack config alone (see load_stack)."""
    return load_stack().config


def _secret_args(stack: StackConfig) -> dict[str, dict[str, pulumi.Output[Any]]]:
    """Each pool's secret args, read from the secret keys its settings name (the config
    check has made sure each is set, as a secret)."""
    config = pulumi.Config(NAMESPACE)
    secrets = {}
    for pool in stack.pools:
        section = getattr(pool, pool.kind.cloud.value)
        keys = {arg: secret_setting(section, s) for arg, s in pool.kind.secret_args.items()}
        secrets[pool.name] = {
            arg: config.require_secret(key) for arg, key in keys.items() if key is not None
        }
    return secrets


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


def _registration_problems(values: dict[str, Any]) -> list[str]:
    """The registration's problems when the stack is invalid: checked against the valid
    pools, so that they show in this pass too."""
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
            if is_misspelt_namespace(namespace):
                problems.append(misspelt_namespace_problem(full_key))
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
    if isinstance(values.get("pools"), list):
        # Each pool is validated once: the stack's validation takes the pools already
        # validated here as they are (pydantic does not validate a model instance again),
        # and validates only the others, to name their problems.
        validated = dict(pools.valid)
        values["pools"] = [validated.get(i, raw) for i, raw in enumerate(values["pools"])]
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
    keys = set()
    for kind in KINDS:
        section = pool.get(kind.cloud.value)
        if not kind.secret_args or (section is None and pool.get("type") not in kind.types):
            continue
        section = section if isinstance(section, dict) else {}
        fields = kind.settings_model().model_fields  # only for kinds with secrets
        for setting in kind.secret_args.values():
            key = (
                secret_setting(section, setting)
                if "." in setting  # in an optional section: only a key written there
                else section.get(setting, fields[setting].default)
            )
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
        elif not runtime_config.is_config_secret(full_key) and key not in PREFECT_SECRET_KEYS:
            # (Prefect's own keys in plain text are refused where the namespace is read.)
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


@dataclass(frozen=True)
class PrefectRegistration:
    """The resolved decision: register or not, where, with what."""

    enabled: bool
    api_url: str | None
    """Where the pools are (or would be) registered; None when no URL is configured."""
    source: str
    """Where the URL (or the decision) comes from, for the plan and messages."""
    api_key: pulumi.Output[str] | None = None
    auth_string: pulumi.Output[str] | None = None
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Pool name -> the base job template read from its file."""

    @property
    def connection(self) -> ConnectionArgs | None:
        """Where and how to register; None when nothing is registered."""
        if not self.enabled or self.api_url is None:
            return None
        from pushpools.components.prefect.common import ConnectionArgs

        return ConnectionArgs(
            api_url=self.api_url, api_key=self.api_key, auth_string=self.auth_string
        )

    def summary(self) -> dict[str, Any]:
        """Plain facts for the stack outputs and the offline plan (no secrets)."""
        return {"enabled": self.enabled, "api_url": self.api_url, "source": self.source}


def resolve_registration(
    enabled: bool | None,
    configured_url: str | None,
    pools: Sequence[tuple[int, PoolConfig]],
    environ: Mapping[str, str] | None = None,
) -> tuple[PrefectRegistration, list[str]]:
    """The registration decision and every problem with it, from `pushpools:prefect`'s
    `enabled` and `api_url` (validated) and the environment. `pools` are the valid pools
    with their index, so that a stack with an invalid pool still gets these checks.

    A credential stored in plain text is the stack config check's to report (it is refused
    whether or not registration is on); here it counts as given but unusable."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    api_url, url_source = configured_url, f"{NAMESPACE}:prefect.api_url"
    if api_url is None and env.get("PREFECT_API_URL"):
        # The Prefect side is imported only for a stack that names a Prefect API URL.
        from pushpools.components.prefect.connection import normalize_api_url, url_problem

        api_url, url_source = env["PREFECT_API_URL"], "PREFECT_API_URL (environment)"
        problem = url_problem(api_url)
        if problem:
            problems.append(f"{url_source}: {problem}")
            api_url = None
        else:
            api_url = normalize_api_url(api_url)

    templates = _load_templates(pools, problems)

    if enabled is False:
        registration = PrefectRegistration(False, api_url, f"{NAMESPACE}:prefect.enabled is false")
    elif api_url is None:
        if enabled:
            problems.append(
                f"{NAMESPACE}:prefect.enabled: true, but no Prefect API URL is configured; "
                f"set {NAMESPACE}:prefect.api_url or PREFECT_API_URL, or set enabled: false"
            )
        registration = PrefectRegistration(False, None, "no Prefect API URL configured")
    else:
        api_key = _secret(API_KEY, "PREFECT_API_KEY", env)
        auth_string = _secret(AUTH_STRING, "PREFECT_API_AUTH_STRING", env)
        # A key stored in plain text is its own problem, not a missing key.
        key_given = api_key is not None or f"{NAMESPACE}:{API_KEY}" in runtime_config.CONFIG.get()
        problems += _endpoint_problems(pools, api_url, url_source, key_given)
        registration = PrefectRegistration(
            True, api_url, url_source, api_key, auth_string, templates
        )
    return registration, problems


def _secret(key: str, env_name: str, env: Mapping[str, str]) -> pulumi.Output[str] | None:
    full_key = f"{NAMESPACE}:{key}"
    if full_key in runtime_config.CONFIG.get():
        if not runtime_config.is_config_secret(full_key):
            return None  # refused by the stack config check
        return pulumi.Config(NAMESPACE).require_secret(key)
    if env.get(env_name):
        return pulumi.Output.secret(env[env_name])
    return None


def _endpoint_problems(
    pools: Sequence[tuple[int, PoolConfig]], api_url: str, url_source: str, has_api_key: bool
) -> list[str]:
    from pushpools.components.prefect.connection import (
        is_cloud_only_type,
        is_prefect_cloud_url,
        push_needs_cloud_message,
    )

    problems = []
    cloud = is_prefect_cloud_url(api_url)
    for index, pool in pools:
        if is_cloud_only_type(pool.type.value) and not cloud:
            problems.append(
                f"{NAMESPACE}:pools[{index}].type: "
                f"{push_needs_cloud_message(pool.type.value, api_url)} (the URL comes from "
                f"{url_source})"
            )
    account = _cloud_account(api_url) if cloud else None
    for index, pool in pools:
        identity = getattr(pool.managed, "aws_federated_identity", None)
        if account and identity is not None and identity.prefect_account_id.lower() != account:
            problems.append(
                f"{NAMESPACE}:pools[{index}].managed.aws_federated_identity.prefect_account_id: "
                f"{identity.prefect_account_id!r} is not the Prefect Cloud account the stack "
                f"registers in ({account}, from {url_source}); the role would trust another "
                "account's flow runs and never this pool's: use that account's ID"
            )
    if cloud and not has_api_key:
        problems.append(
            f"{NAMESPACE}:{API_KEY}: Prefect Cloud ({url_source}) needs an API key; set it "
            f"with `pulumi config set --secret {NAMESPACE}:{API_KEY} <key>` or PREFECT_API_KEY"
        )
    return problems


def _cloud_account(api_url: str) -> str | None:
    """The account UUID of a Prefect Cloud workspace URL (`/api/accounts/<uuid>/...`)."""
    parts = api_url.lower().split("/")
    return parts[parts.index("accounts") + 1] if "accounts" in parts[:-1] else None


def _load_templates(
    pools: Sequence[tuple[int, PoolConfig]], problems: list[str]
) -> dict[str, dict[str, Any]]:
    templates = {}
    for index, pool in pools:
        path = pool.prefect.base_job_template_file
        if path is None:
            continue
        key = f"{NAMESPACE}:pools[{index}].prefect.base_job_template_file"
        from pushpools.components.prefect.templates import TemplateError, check_template_shape

        try:
            template = _read_template(Path(path))
            check_template_shape(template)
            variable = pool.kind.credentials_variable
            if variable is not None and variable not in template["variables"]["properties"]:
                raise TemplateError(
                    f"it has no variable {variable!r}, which {a_or_an(pool.type.value)} pool's "
                    "credentials block is referenced from"
                )
        except (OSError, ValueError) as error:
            problems.append(f"{key}: {path!r}: {error}")
            continue
        templates[pool.name] = template
        # With the template known, the interface is checked against it now, not in Prefect.
        declared = template["variables"]["properties"]
        problems += [
            f"{NAMESPACE}:pools[{index}].prefect.job_variables.{setting}: the template "
            f"{path!r} declares no variable {variable!r}; its variables: "
            f"{', '.join(sorted(declared))}"
            for setting, variable in pool.prefect.job_variables.named()
            if variable not in declared
        ]
        problems += [
            f"{NAMESPACE}:pools[{index}].{pool.kind.cloud.value}.{stored.setting}: the template "
            f"{path!r} declares no variable {stored.variable!r}, which the worker reads the "
            "secret from; use a template that declares it (the worker's own default template)"
            for stored in stored_credentials(getattr(pool, pool.kind.cloud.value), pool.kind.cloud)
            if stored.variable not in declared
        ]
    return templates


def _read_template(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"no such file (looked in {Path.cwd()})") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON: {error}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {error}") from None
