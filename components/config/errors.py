"""Turning a bad stack config into messages a user can act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

NAMESPACE = "pushpools"


class ConfigError(pulumi.RunError):
    """The stack config is invalid; nothing has been declared.

    A ``RunError`` makes ``pulumi up`` print the message without a traceback.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problems):\n{lines}")


def config_key(loc: Iterable[str | int]) -> str:
    """`("pools", 0, "gcp", "project")` -> `pushpools:pools[0].gcp.project`."""
    key = NAMESPACE + ":"
    first = True
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += part if first else f".{part}"
        first = False
    return key


def describe_validation_error(
    error: ValidationError, root: type[BaseModel], prefix: Sequence[str | int] = ()
) -> list[str]:
    """One message per problem, each naming the config key, the value and what is allowed."""
    problems = []
    for item in error.errors(include_url=False):
        loc = [*prefix, *_without_union_tags(item["loc"])]
        key = config_key(loc)
        kind = item["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(root, item["loc"][:-1])
            problems.append(f"{key}: unknown key; allowed keys here: {', '.join(allowed)}")
        elif kind == "missing":
            problems.append(f"{key}: required, but not set")
        elif kind in ("value_error", "assertion_error"):
            message = str(item.get("ctx", {}).get("error", item["msg"]))
            if message.startswith(NAMESPACE + ":"):
                # Checks across pools name their own keys, one problem a line.
                problems.extend(message.splitlines())
            else:
                problems.append(f"{key}: {message}")
        else:
            problems.append(f"{key}: {_show(item.get('input'))} is not allowed: {item['msg']}")
    return problems


def _without_union_tags(loc: Sequence[str | int]) -> list[str | int]:
    # pydantic names the chosen member of a union (e.g. "list[str]") in the location.
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


def _allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
    return sorted(model.model_fields) if _is_model(model) else []


def _model_in(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
