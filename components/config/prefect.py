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

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.prefect.connection import (
    normalize_api_url,
    url_problem,
)

if TYPE_CHECKING:
    pass

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
