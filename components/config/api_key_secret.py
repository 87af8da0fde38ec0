"""The Prefect API key (or auth string) in the cloud's secret store: the settings.

A Cloud Run or ECS pool may keep the credential its flow runs talk to Prefect with in
Secret Manager / Secrets Manager instead of the job's plain environment:

    aws:                              # or gcp:
      prefect_api_key_secret: {}      # stores pushpools:prefectApiKey
      # prefect_api_key_secret: {config_key: flowRunsApiKey, name: team-a-prefect-key}
      # prefect_api_auth_string_secret: {}   # a self-hosted server's basic auth

The value comes from a secret stack-config key (a Pulumi secret from the start); the pool
stores it, lets exactly the identity that starts its jobs read it, and sets the template
variable the worker reads it from. Pure models, no Pulumi: the components are
components/aws/api_key_secret.py and components/gcp/api_key_secret.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.config.pool_types import Cloud, PoolType
from pushpools.components.naming import Naming

API_KEY_CONFIG_KEY = "prefectApiKey"
AUTH_STRING_CONFIG_KEY = "prefectAuthString"
# A top-level key of the `pushpools:` namespace, as `pulumi config set` takes it.
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
# What both Secret Manager (secret IDs) and Secrets Manager (names) accept.
_SECRET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


class PrefectCredential(StrEnum):
    """What a stored secret holds; the value is the component's secret arg for it."""

    API_KEY = "prefect_api_key"
    AUTH_STRING = "prefect_api_auth_string"


class _StoredSecret(ConfigModel):
    name: str | None = Field(
        default=None,
        description=(
            "Name of the secret; default `<pool>-prefect-api-key` (`-prefect-api-auth` for the "
            "auth string), or `prefect-api-key` (`prefect-api-auth`) with `naming: helper`."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a usable secret name; allowed: 1-255 letters, digits, "
                "'_' and '-' (what both Secret Manager and Secrets Manager accept)"
            )
        return value


def _config_key(value: str, own: str, other: str, other_setting: str) -> str:
    if not _CONFIG_KEY.match(value):
        raise ValueError(
            f"{value!r} is not a usable stack-config key; allowed: 1-100 letters, digits, "
            "'_' and '-', starting with a letter"
        )
    if value == other:
        raise ValueError(
            f"{value!r} holds the other Prefect credential; store it with {other_setting} "
            f"(this setting's default is {own!r})"
        )
    return value


class ApiKeySecretSettings(_StoredSecret):
    """`prefect_api_key_secret`: store a Prefect API key for the flow runs."""

    config_key: str = Field(
        default=API_KEY_CONFIG_KEY,
        description=(
            "Secret stack-config key holding the API key the flow runs use; default the stack's "
            "own `prefectApiKey`. A key of its own (`pulumi config set --secret "
            "pushpools:flowRunsApiKey <key>`) of a less privileged Prefect service account is "
            "better practice. Set a new value there to rotate it."
        ),
    )

    @field_validator("config_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _config_key(
            value, API_KEY_CONFIG_KEY, AUTH_STRING_CONFIG_KEY, "prefect_api_auth_string_secret"
        )


class AuthStringSecretSettings(_StoredSecret):
    """`prefect_api_auth_string_secret`: store a self-hosted server's `user:password`."""

    config_key: str = Field(
        default=AUTH_STRING_CONFIG_KEY,
        description=(
            "Secret stack-config key holding the auth string (`user:password`) of a self-hosted "
            "Prefect server; default the stack's own `prefectAuthString`. Set a new value there "
            "to rotate it."
        ),
    )

    @field_validator("config_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _config_key(
            value, AUTH_STRING_CONFIG_KEY, API_KEY_CONFIG_KEY, "prefect_api_key_secret"
        )


API_KEY_DESCRIPTION = (
    "Store a Prefect API key in the cloud's secret store for the flow runs (`{}` stores "
    "`pushpools:prefectApiKey`): only the identity that starts the jobs may read it, and "
    "the template points at it, so no job definition carries the key. Worker types only "
    "(see docs/security.md)."
)
AUTH_STRING_DESCRIPTION = (
    "Store a self-hosted Prefect server's auth string in the cloud's secret store, like "
    "`prefect_api_key_secret` (`{}` stores `pushpools:prefectAuthString`)."
)

# The template variable the worker of each cloud reads each credential's secret from
# (prefect-aws's ECSJobConfiguration, prefect-gcp's Cloud Run v1 and v2 configurations).
_VARIABLES = {
    Cloud.AWS: {
        PrefectCredential.API_KEY: "prefect_api_key_secret_arn",
        PrefectCredential.AUTH_STRING: "prefect_api_auth_string_secret_arn",
    },
    Cloud.GCP: {
        PrefectCredential.API_KEY: "prefect_api_key_secret",
        PrefectCredential.AUTH_STRING: "prefect_api_auth_string_secret",
    },
}
SECRET_STORE_VARIABLES = frozenset(
    v for by_credential in _VARIABLES.values() for v in by_credential.values()
)
"""Every template variable pushpools may point at a stored credential."""
# Pool types whose template, as Prefect serves it with the integration's worker, declares
# these variables: the worker types (prefect-aws >= 0.5, prefect-gcp >= 0.6). The push
# types' templates (Prefect's collection registry, which Prefect Cloud's push pools
# follow) declare none of them: a push pool needs a template file that does.
KNOWN_TO_DECLARE = frozenset({PoolType.ECS, PoolType.CLOUD_RUN, PoolType.CLOUD_RUN_V2})
_SETTINGS = {
    PrefectCredential.API_KEY: "prefect_api_key_secret",
    PrefectCredential.AUTH_STRING: "prefect_api_auth_string_secret",
}
_NAME_SUFFIX = {PrefectCredential.API_KEY: "api-key", PrefectCredential.AUTH_STRING: "api-auth"}


@dataclass(frozen=True)
class StoredCredential:
    """One credential a pool keeps in its cloud's secret store."""

    credential: PrefectCredential
    setting: str
    """The section's setting, e.g. `prefect_api_key_secret`."""
    config_key: str
    """The secret stack-config key its value is read from."""
    name: str
    """The secret's physical name."""
    variable: str
    """The template variable pointing the worker at it."""

    @property
    def logical_name_suffix(self) -> str:
        return f"prefect-{_NAME_SUFFIX[self.credential]}"


def stored_credentials(section: Any, cloud: Cloud) -> list[StoredCredential]:
    """The credentials a (names-resolved) section keeps in the secret store."""
    stored = []
    for credential, setting in _SETTINGS.items():
        secret = getattr(section, setting, None)
        if secret is not None:
            stored.append(
                StoredCredential(
                    credential=credential,
                    setting=setting,
                    config_key=secret.config_key,
                    name=str(secret.name),
                    variable=_VARIABLES[cloud][credential],
                )
            )
    return stored


def resolve_secret_names(section: Any, pool_name: str, naming: Naming) -> dict[str, Any]:
    """The section's secret settings with their names filled in (a model_copy update)."""
    update = {}
    for credential, setting in _SETTINGS.items():
        secret = getattr(section, setting, None)
        if secret is not None and secret.name is None:
            suffix = f"prefect-{_NAME_SUFFIX[credential]}"
            name = suffix if naming is Naming.HELPER else f"{pool_name}-{suffix}"
            update[setting] = secret.model_copy(update={"name": name})
    return update


def secret_config_keys(section: Any, cloud: Cloud) -> dict[str, str]:
    """Secret config key -> the setting that names it."""
    return {
        s.config_key: f"{cloud.value}.{s.setting}.config_key"
        for s in stored_credentials(section, cloud)
    }


def secret_physical_names(section: Any, cloud: Cloud, where: str) -> list[tuple[str, str, str]]:
    """(what, where it must be unique, config key suffix) of the stored secrets."""
    return [
        (f"secret {s.name!r}", where, f"{cloud.value}.{s.setting}.name")
        for s in stored_credentials(section, cloud)
    ]


def type_problem(pool: Any) -> str | None:
    """A stored credential a pool (a PoolConfig) cannot use with its type: the template
    Prefect serves declares no variable for it (a template file is checked against its
    own variables when it is loaded)."""
    section = getattr(pool, pool.kind.cloud.value, None)
    stored = stored_credentials(section, pool.kind.cloud) if section is not None else []
    if not stored or pool.type in KNOWN_TO_DECLARE or pool.prefect.base_job_template_file:
        return None
    worker = pool.type.value.removesuffix(":push")
    first = stored[0]
    return (
        f"{pool.kind.cloud.value}.{first.setting} is set, but the template Prefect serves for "
        f"{pool.type.value!r} pools declares no variable {first.variable!r}, so the flow runs "
        f"would never read the secret; the {worker!r} worker type's template declares it: use "
        f"type {worker!r}, or give prefect.base_job_template_file with a template that "
        "declares it"
    )
