"""Settings of a Prefect Managed pool: nothing in any cloud, only template defaults."""

from __future__ import annotations

from pydantic import Field, field_validator

from pushpools.components.config.base import ConfigModel, refuse_repeats
from pushpools.components.config.modal import valid_env


class ManagedSettings(ConfigModel):
    """The `managed` section of a Prefect Managed pool. May be left out."""

    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables of every flow run (the template's `env`); no secrets here:
    template defaults are plain text in Prefect."""
    pip_packages: list[str] = Field(default_factory=list)
    """Packages installed before each run (the template's `pip_packages`),
    e.g. `pandas>=2`, `prefect-aws[s3]`."""

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        return valid_env(env)

    @field_validator("pip_packages")
    @classmethod
    def _pip_packages(cls, packages: list[str]) -> list[str]:
        if not packages:
            return packages
        # pip's own grammar (PEP 508), through `packaging`, which Prefect depends on;
        # imported here so that stacks without Managed pools do not pay for it.
        from packaging.requirements import InvalidRequirement, Requirement

        for package in packages:
            try:
                Requirement(package)
            except InvalidRequirement:
                raise ValueError(
                    f"{package!r} is not a pip requirement; allowed: a package name, "
                    "optionally with extras, a version and a marker, such as 'pandas>=2' or "
                    "'prefect-aws[s3]'"
                ) from None
        refuse_repeats(
            packages,
            "requirement",
            fold=lambda p: p.replace(" ", "").lower(),
            clash="are the same requirement",
        )
        return packages
