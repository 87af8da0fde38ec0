"""From a pool component's typed args to the validated pool config, and back.

A component's args are a flat, documented view of one pool's stack config (`project` is
`gcp.project`, `repository_name` is `gcp.names.repository`). Validating them through the
same models as the stack config gives component users the same checks and messages as stack
users, naming the argument instead of the config key, before any child is declared.

Args that may come from another resource (a project or VPC made elsewhere) may be Outputs:
such a value cannot be checked before the deployment knows it, so it is passed through, and
a valid stand-in takes its place in the model only to check the other args.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pulumi
from pydantic import ValidationError

from pushpools.components.config.errors import NAMESPACE, describe_validation_error
from pushpools.components.config.pool_types import POOL_KINDS, PoolType
from pushpools.components.config.stack import PoolConfig, StackConfig

_POOL_KEY = f"{NAMESPACE}:pools[0]"
_LABELS_KEY = f"{NAMESPACE}:labels"


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
class ArgsSpec:
    """How one component's args map onto a pool's stack config."""

    component: str
    """The component's class name, for messages."""
    default_type: PoolType
    keys: Mapping[str, str]
    """Argument -> its dotted key in a pool's stack config (`repository_name` ->
    `gcp.names.repository`). `pool_type` maps to `type`; `labels` is the stack's labels."""
    stand_ins: Mapping[str, Any] = field(default_factory=dict)
    """Args that may be Outputs -> a valid value the model checks the other args with."""
    own_args: frozenset[str] = frozenset()
    """Args that are not stack config (Modal's token: the stack reads it from secret keys)."""
    handled_by_the_stack: frozenset[str] = frozenset({"name", "description", "prefect"})
    """Config keys the stack program itself uses (registration), never component args."""
    takes_labels: bool = True
    """Whether the pool creates cloud resources, which carry the stack's labels."""


def is_output(value: Any) -> bool:
    """Whether a value is, or holds, a value only the deployment knows."""
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(is_output(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_output(v) for v in value)
    return False


def validate_args(
    spec: ArgsSpec, name: str, args: Mapping[str, Any]
) -> tuple[PoolConfig, dict[str, str]]:
    """The pool config and labels the args describe, or ComponentArgsError naming each bad
    argument, its value and what is allowed."""
    label = f"{spec.component} {name!r}"
    problems: list[str] = []
    # The cloud's section is there even when every arg in it is missing, so that a missing
    # required one is reported by its name.
    pool: dict[str, Any] = {
        "name": name,
        "type": spec.default_type.value,
        POOL_KINDS[spec.default_type].cloud.value: {},
    }
    labels: Any = {}
    label_args: set[str] = {"labels"} if spec.takes_labels else set()
    allowed = sorted({*spec.keys, *spec.own_args, *label_args})
    for arg, value in args.items():
        if arg == "labels" and spec.takes_labels:
            if is_output(value):
                problems.append("args.labels: an Output is not allowed here; give a plain mapping")
            else:
                labels = _plain(value)
        elif arg in spec.own_args:
            continue
        elif arg not in spec.keys:
            problems.append(f"args.{arg}: unknown argument; allowed: {', '.join(allowed)}")
        elif is_output(value):
            if arg in spec.stand_ins:
                _put(pool, spec.keys[arg], spec.stand_ins[arg])
            else:
                problems.append(
                    f"args.{arg}: an Output is not allowed here; give a plain value (it is "
                    "checked, and decides names or which resources exist, before anything "
                    "is created)"
                )
        else:
            _put(pool, spec.keys[arg], _plain(value))
    if problems:
        raise ComponentArgsError(label, problems)
    try:
        stack = StackConfig.model_validate({"pools": [pool], "labels": labels})
    except ValidationError as error:
        raw = describe_validation_error(error, StackConfig)
        raise ComponentArgsError(label, [_name_the_argument(spec, p) for p in raw]) from None
    validated = stack.pools[0]
    if validated.kind.cloud is not POOL_KINDS[spec.default_type].cloud:
        raise ComponentArgsError(
            label,
            [f"args.pool_type: {validated.type.value!r} is not a pool type of this component"],
        )
    # Physical names are resolved (derived or the helper's) by the pool model itself.
    return validated, dict(stack.labels)


def args_from_config(spec: ArgsSpec, pool: PoolConfig, labels: Mapping[str, str]) -> dict[str, Any]:
    """The args that describe a validated pool of the stack config (the stack program's
    path into the components). Every key the config set must have an argument."""
    dumped = pool.model_dump(mode="json", exclude_unset=True)
    if "pool_type" in spec.keys:
        dumped["type"] = pool.type.value
    else:  # a component of one pool type only
        dumped.pop("type", None)
    by_key = {key: arg for arg, key in spec.keys.items()}
    args: dict[str, Any] = {}
    _collect(dumped, "", by_key, spec.handled_by_the_stack, args)
    if labels and spec.takes_labels:
        args["labels"] = dict(labels)
    return args


def _collect(
    values: Mapping[str, Any],
    prefix: str,
    by_key: Mapping[str, str],
    skipped: frozenset[str],
    args: dict[str, Any],
) -> None:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in by_key:
            args[by_key[path]] = value
        elif path in skipped:
            continue
        elif isinstance(value, Mapping):
            _collect(value, f"{path}.", by_key, skipped, args)
        else:
            # A config key no argument carries would be dropped silently: refuse instead.
            raise TypeError(f"the stack config key {path!r} has no component argument")


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def _plain(value: Any) -> Any:
    """Enum members as their values, containers as plain lists and dicts."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _name_the_argument(spec: ArgsSpec, problem: str) -> str:
    """`pushpools:pools[0].gcp.names.repository: ...` -> `args.repository_name: ...`."""
    key, sep, message = problem.partition(": ")
    if not sep:
        return problem
    if key.startswith(_LABELS_KEY):
        return f"args.labels{key.removeprefix(_LABELS_KEY)}: {message}"
    path = key.removeprefix(_POOL_KEY).lstrip(".")
    if path == "name":
        return f"name: {message}"
    best = ""
    for arg, config_key in spec.keys.items():
        if (path == config_key or path.startswith((f"{config_key}.", f"{config_key}["))) and len(
            config_key
        ) > len(spec.keys.get(best, "")):
            best = arg
    if best:
        rest = path.removeprefix(spec.keys[best])
        return f"args.{best}{rest}: {message}"
    return f"args: {message}"
