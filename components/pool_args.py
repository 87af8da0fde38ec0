"""A pool component's args, checked by the same models as the stack config.

A component's args are its pool's section of the stack config, with the same (nested) keys
(`EcsPushPoolArgs{region, names, network, ecr, ...}` is the `aws` section), plus the
pool-level keys its kind takes (`type`, `naming`, `credentials_block_name`, `labels`) and its
secret args (Modal's token). They are validated by the pool's own settings model, so
component users get the stack's checks and messages, naming the argument instead of the
config key, before anything is declared (not even the component itself).

An arg that may come from another resource (a project or VPC made elsewhere) may be an
Output, where its settings field says so (`FromAnotherResource`): it cannot be checked before
the deployment knows it, so a valid stand-in takes its place in the model only to check the
other args, and the component reads the real value.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from pushpools.components.config.base import FromAnotherResource
from pushpools.components.config.errors import NAMESPACE, describe_errors
from pushpools.components.config.pool_types import PoolKind
from pushpools.components.config.stack import PoolConfig, label_problems


class ComponentArgsError(pulumi.RunError):
    """A component's args are invalid; none of its children has been declared.

    A ``RunError`` makes ``pulumi up`` print the message without a traceback.
    """

    def __init__(self, component: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid arguments for {component} ({count} {noun}):\n{lines}")


@dataclass(frozen=True)
class PoolArgs:
    """A pool component's validated args."""

    pool: PoolConfig
    """The pool, as the stack config would hold it (physical names resolved)."""
    labels: dict[str, str] = field(default_factory=dict)
    outputs: dict[tuple[str, ...], Any] = field(default_factory=dict)
    """Path in the pool's section -> the Output given for it (the model holds a stand-in)."""
    secrets: dict[str, Any] = field(default_factory=dict)
    """Secret args (made Pulumi secrets by the component)."""


def pool_level_args(kind: PoolKind) -> tuple[str, ...]:
    """The args besides the pool's section that a kind's component takes."""
    keys = []
    if len(kind.types) > 1:
        keys.append("type")
    if kind.creates_cloud_resources:
        keys.append("naming")
    if kind.block_type_slug is not None:
        keys.append("credentials_block_name")
    if kind.takes_labels:
        keys.append("labels")
    return tuple(keys)


def args_keys(kind: PoolKind) -> set[str]:
    """Every top-level key a kind's component args may have."""
    settings = set(kind.settings_model().model_fields) - set(kind.secret_args.values())
    return settings | set(pool_level_args(kind)) | set(kind.secret_args)


def is_output(value: Any) -> bool:
    """Whether a value is, or holds, a value only the deployment knows."""
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(is_output(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_output(v) for v in value)
    return False


def validate_args(kind: PoolKind, component: str, name: Any, args: Any) -> PoolArgs:
    """The validated pool the args describe, or ComponentArgsError naming each bad
    argument, its value and what is allowed (every problem at once)."""
    label = f"{component} {name!r}"
    if not isinstance(name, str):
        raise ComponentArgsError(
            label,
            [
                f"name: {type(name).__name__} is not allowed; give the pool's name (text) "
                "first, then its args"
            ],
        )
    if not isinstance(args, Mapping):
        raise ComponentArgsError(
            label,
            [f"args: {type(args).__name__} is not allowed; give a mapping of the arguments"],
        )
    problems: list[str] = []
    pool_level = pool_level_args(kind)
    settings_model = kind.settings_model()
    pool: dict[str, Any] = {"name": name, "type": kind.types[0].value}
    section: dict[str, Any] = {}
    labels: Any = {}
    secrets: dict[str, Any] = {}
    outputs: dict[tuple[str, ...], Any] = {}
    for arg, value in args.items():
        if arg == "labels" and "labels" in pool_level:
            if is_output(value):
                problems.append("args.labels: an Output is not allowed here; give a plain mapping")
            else:
                labels = _plain(value)
        elif arg in pool_level:
            pool[arg] = _plain(value)
        elif arg in kind.secret_args:
            secrets[arg] = value
        elif arg in kind.secret_args.values():
            problems.append(_unknown(arg, kind))
        else:
            section[arg] = value
    problems += _secret_arg_problems(kind, section, secrets)
    problems += _take_outputs(settings_model, section, (), outputs)
    pool[kind.cloud.value] = _plain(section)
    if "type" in pool and pool["type"] not in {t.value for t in kind.types}:
        allowed = ", ".join(t.value for t in kind.types)
        problems.append(f"args.type: {pool['type']!r} is not allowed; allowed: {allowed}")
    validated: PoolConfig | None = None
    if not problems:
        try:
            validated = PoolConfig.model_validate(pool)
        except ValidationError as error:
            problems += [
                _name_the_argument(p, kind)
                for p in describe_errors(error.errors(include_url=False), PoolConfig)
            ]
    problems += _label_problems(labels, validated)
    if problems or validated is None:
        raise ComponentArgsError(label, problems)
    return PoolArgs(validated, dict(labels), outputs, secrets)


def _secret_arg_problems(kind: PoolKind, section: Mapping[str, Any], secrets: Mapping) -> list:
    """A secret arg is required where the setting naming its config key applies (always,
    or where its optional section is given), and taken nowhere else."""
    problems = []
    for arg, setting in kind.secret_args.items():
        parent, _, leaf = setting.rpartition(".")
        if not parent:
            if arg not in secrets:
                problems.append(f"args.{arg}: required, but not set")
            continue
        given = section.get(parent)
        if isinstance(given, Mapping) and leaf in given:
            problems.append(
                f"args.{setting}: not an argument of a component (it names the stack-config key "
                f"the stack program reads the secret from); give the secret itself as args.{arg}"
            )
        if given is not None and arg not in secrets:
            problems.append(f"args.{arg}: required by args.{parent}, but not set")
        elif given is None and arg in secrets:
            problems.append(
                f"args.{arg}: given, but args.{parent} is not set, so it would never be "
                f"stored; add {parent}: {{}} or remove {arg}"
            )
    return problems


def _take_outputs(
    model: type[BaseModel], values: dict[str, Any], path: tuple[str, ...], outputs: dict
) -> list[str]:
    """Move Outputs out of `values` (in place) into `outputs`, putting each field's stand-in
    in their place; an Output where no stand-in is declared is a problem."""
    problems = []
    for key, value in list(values.items()):
        field_info = model.model_fields.get(key)
        if field_info is None:
            continue  # unknown: the model names it
        nested = nested_model(field_info.annotation)
        stand_in = next(
            (m.stand_in for m in field_info.metadata if isinstance(m, FromAnotherResource)),
            None,
        )
        if nested is not None and isinstance(value, Mapping) and not isinstance(value, BaseModel):
            inner = dict(value)
            problems += _take_outputs(nested, inner, (*path, key), outputs)
            values[key] = inner
        elif is_output(value):
            if stand_in is None:
                problems.append(
                    f"args.{'.'.join((*path, key))}: an Output is not allowed here; give a "
                    "plain value (it is checked, and decides names or which resources "
                    "exist, before anything is created)"
                )
            else:
                outputs[(*path, key)] = value
                values[key] = stand_in
    return problems


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field's annotation holds (`X`, `X | None`, `list[X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = nested_model(arg)
        if found is not None:
            return found
    return None


def _label_problems(labels: Any, pool: PoolConfig | None) -> list[str]:
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        return [f"args.labels: {labels!r} is not allowed; allowed: a mapping of text to text"]
    if pool is None:
        return []
    prefix = f"{NAMESPACE}:labels"
    return [
        f"args.labels{p.removeprefix(prefix)}" for p in label_problems(dict(labels), [(0, pool)])
    ]


def _unknown(arg: str, kind: PoolKind) -> str:
    return f"args.{arg}: unknown argument; allowed: {', '.join(sorted(args_keys(kind)))}"


def _name_the_argument(problem: str, kind: PoolKind) -> str:
    """`pushpools:gcp.names.repository: ...` -> `args.names.repository: ...`."""
    key, sep, message = problem.partition(": ")
    if not sep:
        return problem
    path = key.removeprefix(f"{NAMESPACE}:").removeprefix("pools[0].")
    cloud = kind.cloud.value
    if path == "name":
        return f"name: {message}"
    if path == cloud:
        return f"args: {message}"
    if path.startswith(f"{cloud}."):
        rest = path.removeprefix(f"{cloud}.")
        if message.startswith("unknown key;") and "." not in rest and "[" not in rest:
            return _unknown(rest, kind)
        return f"args.{rest}: {message}"
    return f"args.{path}: {message}"


def _plain(value: Any) -> Any:
    """Enum members as their values, containers as plain lists and dicts, and whole
    numbers as integers: other languages' programs reach a component through protobuf,
    where every number is a double (2 arrives as 2.0)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
