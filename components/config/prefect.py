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

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from pushpools.components.config.base import ConfigModel

if TYPE_CHECKING:
    pass

API_KEY = "prefectApiKey"
AUTH_STRING = "prefectAuthString"
SECRET_KEYS = frozenset({API_KEY, AUTH_STRING})
"""Top-level secret keys of the `pushpools:` namespace this module reads."""
# A top-level key of the `pushpools:` namespace, as `pulumi config set` takes it.
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")


def secret_key_of_a_pool(value: str, credential: str, default: str) -> str:
    """Check the name of the secret config key a pool reads its `credential` from (Modal's
    token, Coiled's): a key `pulumi config set` takes, and not Prefect's own credential's."""
    if not _CONFIG_KEY.match(value):
        raise ValueError(
            f"{value!r} is not a usable stack-config key; allowed: 1-100 letters, digits, "
            "'_' and '-', starting with a letter"
        )
    if value in SECRET_KEYS:
        raise ValueError(
            f"{value!r} is the config key of Prefect's own credential, not of a "
            f"{credential}; name a key of its own (default {default})"
        )
    return value


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
        # Imported only for a stack that names a Prefect API URL.
        from pushpools.components.prefect.connection import normalize_api_url, url_problem

        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return normalize_api_url(value)


# Prefect refuses `/` and `%` in object names (they would break its URLs).
_QUEUE_NAME = re.compile(r"^[^/%]{1,100}$")


class WorkQueueSettings(ConfigModel):
    """One work queue of the pool (`default` is the queue Prefect makes with every pool)."""

    name: str = Field(description="The queue's name; `default` manages the pool's own queue.")
    priority: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Lower runs first (1 is the highest); unique within the pool. Unset: Prefect's choice."
        ),
    )
    concurrency_limit: int | None = Field(
        default=None, ge=0, description="Most flow runs at once from this queue; unset: no limit."
    )
    description: str | None = Field(
        default=None, description="The queue's description; unset: Prefect's."
    )
    paused: bool = Field(default=False, description="Prefect starts no runs from a paused queue.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _QUEUE_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid work queue name; allowed: 1-100 characters, "
                "no '/' or '%'"
            )
        return value


class VariableBounds(ConfigModel):
    """What a deployment may set a job variable to (JSON schema keywords Prefect enforces)."""

    enum: list[Any] | None = Field(
        default=None, min_length=1, description="The only values allowed."
    )
    minimum: float | None = Field(default=None, description="Smallest number allowed.")
    maximum: float | None = Field(default=None, description="Largest number allowed.")
    pattern: str | None = Field(
        default=None, description="A regular expression every text value must match."
    )

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(
                    f"{value!r} is not a regular expression ({error}); allowed: a pattern "
                    "such as '^123456789012\\.dkr\\.ecr\\.'"
                ) from None
        return value

    @model_validator(mode="after")
    def _something_bounded(self) -> VariableBounds:
        if not self.model_fields_set:
            raise ValueError("a bound needs at least one of enum, minimum, maximum, pattern")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(
                f"minimum {_number(self.minimum)} is above maximum {_number(self.maximum)}"
            )
        return self

    def schema_keywords(self) -> dict[str, Any]:
        """The keywords written into the variable's JSON schema."""
        return {
            k: _number(v) if k in ("minimum", "maximum") else v
            for k, v in self.model_dump(exclude_unset=True).items()
            if v is not None
        }


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


class JobVariableSettings(ConfigModel):
    """The interface the pool enforces on deployments' job variables."""

    pin: dict[str, Any] = Field(
        default={},
        description=(
            "Variables fixed to these values: written into the job configuration and removed "
            "from what deployments may set (Prefect refuses a deployment that sets one)."
        ),
    )
    pin_defaults: list[str] = Field(
        default=[],
        description=(
            "Variables fixed to the value pushpools sets for them (e.g. cluster, "
            "execution_role_arn, region), pinned like `pin`."
        ),
    )
    bound: dict[str, VariableBounds] = Field(
        default={},
        description="What deployments may set variables to: enum, minimum/maximum, pattern.",
    )
    default: dict[str, Any] = Field(
        default={},
        description=(
            "Defaults deployments may override (over pushpools' own default of the same variable)."
        ),
    )

    @model_validator(mode="after")
    def _one_role_per_variable(self) -> JobVariableSettings:
        problems = []
        pinned = {*self.pin, *self.pin_defaults}
        for name in sorted(set(self.pin) & set(self.pin_defaults)):
            problems.append(f"{name!r} is in both pin and pin_defaults; keep one")
        for other, names in (("bound", self.bound), ("default", self.default)):
            for name in sorted(pinned & set(names)):
                problems.append(
                    f"{name!r} is pinned and in {other}: a pinned variable cannot be set by "
                    f"deployments, so it takes no {other}; keep one"
                )
        if len(set(self.pin_defaults)) != len(self.pin_defaults):
            problems.append("pin_defaults lists a variable twice")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def named(self) -> list[tuple[str, str]]:
        """(setting, variable) for every variable this names, to check against a template."""
        return [
            *((f"pin.{n}", n) for n in self.pin),
            *((f"pin_defaults[{i}]", n) for i, n in enumerate(self.pin_defaults)),
            *((f"bound.{n}", n) for n in self.bound),
            *((f"default.{n}", n) for n in self.default),
        ]


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

    work_queues: list[WorkQueueSettings] = Field(
        default=[],
        description=(
            "The pool's work queues (name, priority, concurrency_limit, description, paused); "
            "`default` manages the queue Prefect makes with every pool. Queues not listed are "
            "left alone."
        ),
    )
    job_variables: JobVariableSettings = Field(
        default=JobVariableSettings(),
        description=(
            "The interface deployments get: variables pinned (pin, pin_defaults), bounded "
            "(bound) or defaulted (default)."
        ),
    )

    @field_validator("work_queues")
    @classmethod
    def _queues_unique(cls, queues: list[WorkQueueSettings]) -> list[WorkQueueSettings]:
        problems = []
        names: dict[str, int] = {}
        priorities: dict[int, int] = {}
        for index, queue in enumerate(queues):
            if queue.name in names:
                problems.append(
                    f"work_queues[{index}].name {queue.name!r} is already the name of "
                    f"work_queues[{names[queue.name]}]; queue names must be unique"
                )
            names.setdefault(queue.name, index)
            if queue.priority is not None:
                if queue.priority in priorities:
                    problems.append(
                        f"work_queues[{index}].priority {queue.priority} is already the "
                        f"priority of work_queues[{priorities[queue.priority]}]; Prefect keeps "
                        "priorities unique within a pool"
                    )
                priorities.setdefault(queue.priority, index)
        if problems:
            raise ValueError("; ".join(problems))
        return queues

    @field_validator("base_job_template_file")
    @classmethod
    def _template_suffix(cls, value: str | None) -> str | None:
        if value is not None and Path(value).suffix.lower() not in (".json", ".yaml", ".yml"):
            raise ValueError(
                f"{value!r} is not a template file name; allowed: a .json, .yaml or .yml file"
            )
        return value
