"""Reading `Pulumi.yaml` and a `Pulumi.<stack>.yaml` without the Pulumi CLI.

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

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pushpools.components.config.pool_types import KINDS

SECRET_PLACEHOLDER = "[secret: encrypted in the stack file]"  # noqa: S105 - a mask
ESC_PLACEHOLDER = "[secret: from a Pulumi ESC environment]"
# The secret keys of the `pushpools:` namespace an ESC environment is expected to supply
# (besides the Modal token keys the pools name).
_ESC_SECRET_KEYS = ("prefectApiKey",)


class StackFileError(Exception):
    """A project or stack file is missing or not in Pulumi's format."""


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


def project_dir() -> Path:
    """The folder of Pulumi.yaml: the current one or the package's checkout."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise StackFileError("no Pulumi.yaml in the current folder; run pushpools from the project")


def stack_file_path(directory: Path, stack: str) -> Path:
    project = _read_yaml(directory / "Pulumi.yaml")
    config_dir = directory / str(project.get("stackConfigDir", "."))
    return config_dir / f"Pulumi.{stack}.yaml"


def load_stack(directory: Path, stack_file: Path, stack: str | None = None) -> StackSettings:
    project = _read_yaml(directory / "Pulumi.yaml")
    name = str(project.get("name") or "")
    if not name:
        raise StackFileError(f"{directory / 'Pulumi.yaml'}: no project name")
    if stack is None:
        stack = stack_file.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    # Project-level defaults first (a declaration's `default`), then the stack's values.
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            _put(config, secret_keys, _qualify(key, name), declaration["default"])
    stack_values = _read_yaml(stack_file).get("config") or {}
    if not isinstance(stack_values, dict):
        raise StackFileError(f"{stack_file}: `config` must be a map of keys to values")
    for key, value in stack_values.items():
        _put(config, secret_keys, _qualify(str(key), name), value)
    environments = _environments(stack_file)
    provided = _from_environments(stack_values, name, config) if environments else []
    for key in provided:
        config[key] = ESC_PLACEHOLDER
        secret_keys.append(key)
    return StackSettings(name, stack, config, secret_keys, environments, tuple(provided))


def _environments(stack_file: Path) -> tuple[str, ...]:
    imports = _read_yaml(stack_file).get("environment")
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
    pools = stack_values.get(f"{project}:pools") or stack_values.get("pools") or []
    for pool in pools if isinstance(pools, list) else []:
        # Kinds with secret args (Modal's token, Coiled's) name the keys that hold them.
        for kind in KINDS:
            section = pool.get(kind.cloud.value) if isinstance(pool, dict) else None
            if isinstance(section, dict):
                for field in kind.secret_args.values():
                    if isinstance(section.get(field), str):
                        wanted.append(_qualify(section[field], project))
    return [key for key in dict.fromkeys(wanted) if key not in config]


def _qualify(key: str, project: str) -> str:
    # Pulumi puts a key written without a namespace into the project's namespace.
    return key if ":" in key else f"{project}:{key}"


def _put(config: dict[str, str], secret_keys: list[str], key: str, value: Any) -> None:
    value, has_secret = _replace_ciphertext(value)
    config[key] = _as_cli_text(value)
    if has_secret and key not in secret_keys:
        secret_keys.append(key)


def _replace_ciphertext(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _replace_ciphertext(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_replace_ciphertext(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_cli_text(value: Any) -> str:
    """Top-level values reach a program as text: scalars as written, objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | datetime.date):
        return str(value)
    # YAML reads an unquoted 2027-01-31 as a date; Pulumi hands it over as text.
    return json.dumps(value, default=str)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        # libyaml's loader where PyYAML has it: the pure-Python one took 5 ms of a plan.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 - both loaders are safe
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a map at the top level")
    return data
