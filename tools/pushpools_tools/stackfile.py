"""Reading `Pulumi.yaml` and a `Pulumi.<stack>.yaml` without the Pulumi CLI, value for
value as Pulumi reads them (stack_yaml.py).

Values set with `pulumi config set --secret` are ciphertext only the CLI can decrypt;
here they become opaque secrets, so a program that reads them still sees a secret.

Pulumi ESC is the recommended home for the Prefect API key (and Modal tokens): the stack
file imports an environment (`environment: [acme/prefect-prod]`) whose `pulumiConfig`
supplies `pushpools:prefectApiKey`, so no key is stored in the repository, even encrypted,
and one key serves every stack that imports it. The CLI resolves environments from Pulumi
Cloud; offline their values cannot be known, so the secret keys pushpools reads that the
stack file leaves unset are taken as provided by the imported environments: unknown
secrets, named as such in the plan. `pulumi preview` resolves them for real.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pushpools_tools.stack_yaml import (
    SECRET_PLACEHOLDER,
    ReadAs,
    StackFileError,
    program_text,
    read_project_file,
    read_stack_file,
)

__all__ = [
    "ESC_PLACEHOLDER",
    "SECRET_PLACEHOLDER",
    "StackFileError",
    "StackSettings",
    "load_stack",
    "project_dir",
    "stack_file_path",
]

from pushpools.components.config.pool_types import KINDS, secret_setting
from pushpools.components.config.stack import PoolConfig

ESC_PLACEHOLDER = "[secret: from a Pulumi ESC environment]"
# The secret keys of the `pushpools:` namespace an ESC environment is expected to supply
# (besides the Modal token keys the pools name).
_ESC_SECRET_KEYS = ("prefectApiKey",)


@dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    config: dict[str, str]
    """`namespace:key` -> value as the Pulumi CLI hands it to a program (JSON for objects)."""
    secret_keys: list[str]
    environments: tuple[str, ...] = ()
    """The Pulumi ESC environments the stack file imports."""
    from_environments: tuple[str, ...] = ()
    """Config keys taken as provided by those environments (unknown secrets offline)."""
    problems: tuple[str, ...] = ()
    """Config problems found in reading the file (a misspelt `pushpools` namespace), to be
    reported with the config check's own, in one pass."""
    written: Mapping[str, ReadAs] = field(default_factory=dict)
    """Config key -> how its value was written and read, where that is not the text
    written (`010` is the number 8): added to a problem about that key."""


def project_dir() -> Path:
    """The folder of Pulumi.yaml: the current one or the package's checkout."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise StackFileError("no Pulumi.yaml in the current folder; run pushpools from the project")


def stack_file_path(directory: Path, stack: str) -> Path:
    project = read_project_file(directory / "Pulumi.yaml")
    config_dir = directory / str(project.get("stackConfigDir", "."))
    return config_dir / f"Pulumi.{stack}.yaml"


def load_stack(directory: Path, stack_file: Path, stack: str | None = None) -> StackSettings:
    project = read_project_file(directory / "Pulumi.yaml")
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise StackFileError(f"{directory / 'Pulumi.yaml'}: no project name")
    if stack is None:
        stack = stack_file.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    # Project-level defaults first (a declaration's `default`), then the stack's values.
    declarations = project.get("config")
    for key, declaration in (declarations if isinstance(declarations, dict) else {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            config[_qualify(key, name)] = program_text(declaration["default"])
    stack_file_values = read_stack_file(stack_file, name)
    config.update(stack_file_values.config)
    secret_keys += stack_file_values.secret_keys
    environments = _environments(stack_file, stack_file_values.environment)
    provided = _from_environments(stack_file_values.values, name, config) if environments else []
    for key in provided:
        config[key] = ESC_PLACEHOLDER
        secret_keys.append(key)
    return StackSettings(
        name,
        stack,
        config,
        secret_keys,
        environments,
        tuple(provided),
        tuple(stack_file_values.namespace_problems),
        stack_file_values.written,
    )


def _environments(stack_file: Path, imports: Any) -> tuple[str, ...]:
    if imports is None:
        return ()
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list) or not all(isinstance(i, str) and i for i in imports):
        raise StackFileError(
            f"{stack_file}: `environment`: {imports!r} is not a list of ESC environment names "
            "(allowed: e.g. `environment: [acme/prefect-prod]`)"
        )
    return tuple(imports)


def _from_environments(
    stack_values: dict[str, Any], project: str, config: dict[str, str]
) -> list[str]:
    """The secret keys pushpools reads that the stack file leaves to its environments."""
    wanted = [f"{project}:{key}" for key in _ESC_SECRET_KEYS]
    pools = stack_values.get(f"{project}:pools") or []
    for pool in pools if isinstance(pools, list) else []:
        # Kinds with secret args (Modal's token, Coiled's, a stored Prefect key) name the
        # keys that hold them; a valid pool says which, defaults included.
        try:
            named = PoolConfig.model_validate(pool).secret_config_keys()
        except ValidationError:
            named = {}  # reported by the config check; read the keys as written
        wanted += [_qualify(key, project) for key in named]
        for kind in () if named else KINDS:
            section = pool.get(kind.cloud.value) if isinstance(pool, dict) else None
            if isinstance(section, dict):
                for field in kind.secret_args.values():
                    key = secret_setting(section, field)
                    if isinstance(key, str):
                        wanted.append(_qualify(key, project))
    return [key for key in dict.fromkeys(wanted) if key not in config]


def _qualify(key: str, project: str) -> str:
    # Pulumi puts a key written without a namespace into the project's namespace.
    return key if ":" in key else f"{project}:{key}"
