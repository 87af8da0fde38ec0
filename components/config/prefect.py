"""Registering the pools in Prefect: whether, where, with which credentials, and how.

Stack config:

    pushpools:prefect:
      enabled: true             # default: register when a Prefect API URL is configured
      api_url: https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>
    pushpools:prefectApiKey     # secret: `pulumi config set --secret` (Prefect Cloud)
    pushpools:prefectAuthString # secret: user:password of a self-hosted server

and per pool, a `prefect` section (adopt_existing, base_job_template_file,
concurrency_limit, paused). Unset connection settings fall back to the environment Prefect's
own tools read: PREFECT_API_URL, PREFECT_API_KEY, PREFECT_API_AUTH_STRING.

Everything here is checked before any resource is declared; nothing here contacts Prefect.
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
from pydantic import Field, field_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.config.errors import NAMESPACE, ConfigError, a_or_an
from pushpools.components.prefect.connection import (
    is_cloud_only_type,
    is_prefect_cloud_url,
    normalize_api_url,
    push_needs_cloud_message,
    url_problem,
)
from pushpools.components.prefect.templates import TemplateError, check_template_shape

if TYPE_CHECKING:
    from pushpools.components.config.stack import PoolConfig, StackConfig

API_KEY = "prefectApiKey"
AUTH_STRING = "prefectAuthString"
SECRET_KEYS = frozenset({API_KEY, AUTH_STRING})
"""Top-level secret keys of the `pushpools:` namespace this module reads."""


class PrefectSettings(ConfigModel):
    """`pushpools:prefect`: whether and where the stack registers its pools."""

    enabled: bool | None = Field(
        default=None,
        description=(
            "true: register (a Prefect API URL must be configured); false: never register, the "
            "stack outputs carry the payloads for a team that manages Prefect elsewhere; unset: "
            "register when a Prefect API URL is configured."
        ),
    )
    api_url: str | None = Field(
        default=None,
        description="Prefect API URL; default: PREFECT_API_URL from the environment.",
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return normalize_api_url(value)


class PoolPrefectSettings(ConfigModel):
    """A pool's `prefect` section: how its block and work pool are registered."""

    adopt_existing: bool = Field(
        default=False,
        description=(
            "Take over a block or work pool of the same name already in Prefect (it is updated to "
            "this config, and `pulumi destroy` deletes it) instead of failing on it."
        ),
    )
    base_job_template_file: str | None = Field(
        default=None,
        description=(
            "A JSON or YAML base job template to start from instead of the default template the "
            "connected Prefect serves for the pool's type; relative to the project directory."
        ),
    )
    concurrency_limit: int | None = Field(
        default=None,
        ge=0,
        description="Most flow runs at once in the pool; unset: no limit.",
    )
    paused: bool = Field(
        default=False,
        description="Register the pool paused: Prefect starts no runs from it.",
    )

    @field_validator("base_job_template_file")
    @classmethod
    def _template_suffix(cls, value: str | None) -> str | None:
        if value is not None and Path(value).suffix.lower() not in (".json", ".yaml", ".yml"):
            raise ValueError(
                f"{value!r} is not a template file name; allowed: a .json, .yaml or .yml file"
            )
        return value


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

    def summary(self) -> dict[str, Any]:
        """Plain facts for the stack outputs and the offline plan (no secrets)."""
        return {"enabled": self.enabled, "api_url": self.api_url, "source": self.source}


def load_prefect_registration(
    stack: StackConfig, environ: Mapping[str, str] | None = None
) -> PrefectRegistration:
    """Resolve the registration settings, or raise ConfigError listing every problem."""
    registration, problems = resolve_registration(
        stack.prefect.enabled, stack.prefect.api_url, list(enumerate(stack.pools)), environ
    )
    if problems:
        raise ConfigError(problems)
    return registration


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
    problems = []
    cloud = is_prefect_cloud_url(api_url)
    for index, pool in pools:
        if is_cloud_only_type(pool.type.value) and not cloud:
            problems.append(
                f"{NAMESPACE}:pools[{index}].type: "
                f"{push_needs_cloud_message(pool.type.value, api_url)} (the URL comes from "
                f"{url_source})"
            )
    if cloud and not has_api_key:
        problems.append(
            f"{NAMESPACE}:{API_KEY}: Prefect Cloud ({url_source}) needs an API key; set it "
            f"with `pulumi config set --secret {NAMESPACE}:{API_KEY} <key>` or PREFECT_API_KEY"
        )
    return problems


def _load_templates(
    pools: Sequence[tuple[int, PoolConfig]], problems: list[str]
) -> dict[str, dict[str, Any]]:
    templates = {}
    for index, pool in pools:
        path = pool.prefect.base_job_template_file
        if path is None:
            continue
        key = f"{NAMESPACE}:pools[{index}].prefect.base_job_template_file"
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
