"""Settings of a Coiled pool: where its API token is, and the template defaults of its runs.

The template variables are those prefect-coiled 0.0.4 declares (`CoiledVariables` in
prefect_coiled/worker.py; the `coiled:push` template exposes the same): credentials,
workspace, software, image, region, vm_types, arm, cpu, memory, gpu,
additional_coiled_options, and the base worker's env.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from pushpools.components.coiled.setup_settings import CoiledCloudSetup
from pushpools.components.config.base import ConfigModel, refuse_repeats
from pushpools.components.config.prefect import secret_key_of_a_pool
from pushpools.components.modal.settings import valid_env
from pushpools.components.naming import Naming

# A top-level key of the `pushpools:` namespace, as `pulumi config set` takes it.
# Coiled workspace slugs: lowercase letters, digits, '-' and '_' (as in its URLs).
_WORKSPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
# Cloud regions of the three clouds Coiled runs on: `us-east-1`, `us-central1`, `eastus`.
_REGION = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
# Instance types: AWS `m6i.xlarge`, GCP `n2-standard-4`, Azure `Standard_D4s_v5`.
_VM_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# What the worker's memory check (dask.utils.parse_bytes) reads: a number and a unit.
_MEMORY = re.compile(
    r"^\d+(\.\d+)?\s*(B|kB|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB|k|M|G|T|Ki|Mi|Gi|Ti)$"
)
# Options pushpools sets through variables of their own: not again through
# `additional_coiled_options` (coiled.batch.run would get them twice and fail).
_RUN_ARGS_OF_VARIABLES = frozenset(
    {
        "command",
        "workspace",
        "container",
        "software",
        "secret_env",
        "region",
        "vm_type",
        "arm",
        "cpu",
        "memory",
        "gpu",
        "tag",
        "logger",
    }
)


class CoiledSettings(ConfigModel):
    """The `coiled` section of a Coiled pool."""

    token_key: str = Field(
        default="coiledApiToken",
        description=(
            "Secret stack-config key holding the Coiled API token (`pulumi config set --secret "
            "pushpools:coiledApiToken <token>`); set a new token there to rotate it."
        ),
    )
    workspace: str | None = Field(
        default=None,
        description=(
            "Coiled workspace the runs use (default: the token owner's default workspace)."
        ),
    )
    region: str | None = Field(
        default=None,
        description="Cloud region the runs use (default: the workspace's default region).",
    )
    software: str | None = Field(
        default=None,
        description="Name of a Coiled software environment for the runs (or give `image`).",
    )
    image: str | None = Field(
        default=None,
        description="Container image of the runs, when no software environment is given.",
    )
    vm_types: list[str] = Field(
        default=[],
        description=(
            "Instance types to choose from, e.g. `m6i.xlarge`; often better left to Coiled "
            "with `cpu` and `memory`."
        ),
    )
    arm: bool | None = Field(default=None, description="Run on ARM instances.")
    cpu: int | None = Field(
        default=None, ge=1, le=1024, description="CPU cores (vCPUs) of the run's instance."
    )
    memory: str | None = Field(
        default=None, description="Memory of the run's instance, e.g. `16 GiB`."
    )
    gpu: bool | None = Field(default=None, description="Run on an instance with an NVIDIA GPU.")
    env: dict[str, str] = Field(
        default={},
        description=(
            "Environment variables of every flow run (the template's `env`); no secrets here: "
            "template defaults are plain text in Prefect."
        ),
    )
    additional_coiled_options: dict[str, Any] = Field(
        default={},
        description=(
            "Further keyword arguments of `coiled.batch.run` (e.g. `disk_size`), as the "
            "worker passes them."
        ),
    )

    cloud_setup: CoiledCloudSetup | None = Field(
        default=None,
        description=(
            "Coiled's own cloud setup (what `coiled setup aws|gcp` creates), declared by this "
            "pool: opt-in; without it the pool creates nothing in any cloud."
        ),
    )

    @field_validator("token_key")
    @classmethod
    def _config_key(cls, value: str) -> str:
        return secret_key_of_a_pool(value, "Coiled token", "coiledApiToken")

    @field_validator("workspace")
    @classmethod
    def _workspace(cls, value: str | None) -> str | None:
        if value is not None and not _WORKSPACE.match(value):
            raise ValueError(
                f"{value!r} is not a Coiled workspace name; allowed: 1-100 lowercase letters, "
                "digits, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError(
                f"{value!r} is not a cloud region; allowed: a region name of AWS, GCP or "
                "Azure such as 'us-east-1', 'us-central1' or 'eastus'"
            )
        return value

    @field_validator("vm_types")
    @classmethod
    def _vm_types(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _VM_TYPE.match(value):
                raise ValueError(
                    f"{value!r} is not an instance type; allowed: names such as 'm6i.xlarge', "
                    "'n2-standard-4' or 'Standard_D4s_v5'"
                )
        refuse_repeats(values, "instance type")
        return values

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value):
            raise ValueError(
                f"{value!r} is not an amount of memory; allowed: a number and a unit, such "
                "as '16 GiB' or '8GB'"
            )
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        return valid_env(env)

    @field_validator("additional_coiled_options")
    @classmethod
    def _options(cls, options: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(set(options) & _RUN_ARGS_OF_VARIABLES)
        if taken:
            raise ValueError(
                f"{taken[0]!r} is set by the pool's own settings (workspace, region, software, "
                "image, vm_types, arm, cpu, memory, gpu, env); set it there, not here"
            )
        return options

    @model_validator(mode="after")
    def _software_or_image(self) -> CoiledSettings:
        # The worker silently ignores the image when a software environment is set.
        if self.software is not None and self.image is not None:
            raise ValueError(
                f"software {self.software!r} and image {self.image!r} are both set; the "
                "Coiled worker runs the software environment and ignores the image: keep one"
            )
        return self

    def creates_cloud_resources(self) -> bool:
        return self.cloud_setup is not None

    def resolve_names(self, pool_name: str, naming: Naming) -> CoiledSettings:
        """A copy whose cloud setup has every name (see CoiledCloudSetup.resolve_names)."""
        if self.cloud_setup is None:
            return self
        setup = self.cloud_setup.resolve_names(pool_name, naming, self.workspace)
        return self.model_copy(update={"cloud_setup": setup})

    def naming_problem(self) -> str | None:
        """A name the pool's naming cannot give (after `resolve_names`)."""
        return None if self.cloud_setup is None else self.cloud_setup.missing_names()

    def physical_names(self) -> list[tuple[str, str, str]]:
        return [] if self.cloud_setup is None else self.cloud_setup.physical_names()

    def secret_config_keys(self) -> dict[str, str]:
        """Top-level secret config keys this pool reads -> the setting that names each."""
        return {self.token_key: "coiled.token_key"}

    def template_defaults(self) -> dict[str, Any]:
        """Only what the config sets: prefect-coiled's own defaults stay in force for the rest."""
        defaults: dict[str, Any] = {
            key: getattr(self, key)
            for key in ("workspace", "region", "software", "image", "arm", "cpu", "memory", "gpu")
            if getattr(self, key) is not None
        }
        if self.vm_types:
            defaults["vm_types"] = self.vm_types
        if self.env:
            defaults["env"] = self.env
        if self.additional_coiled_options:
            defaults["additional_coiled_options"] = self.additional_coiled_options
        return defaults
