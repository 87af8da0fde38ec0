"""What every config model shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Strict by default: a misspelt key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def refuse_repeats(
    values: Sequence[str],
    what: str,
    fold: Callable[[str], str] = str,
    clash: str = "would name one resource",
) -> None:
    """A value listed twice would declare two resources with one URN (and the engine would
    refuse the stack at `pulumi up`): name the repeated entries instead. `fold` gives what
    must differ; `clash` says why two different spellings are one."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        first = seen.setdefault(fold(value), index)
        if first != index and values[first] == value:
            raise ValueError(
                f"{value!r} is listed twice (entries [{first}] and [{index}]); "
                f"list each {what} once"
            )
        if first != index:
            raise ValueError(
                f"{value!r} (entry [{index}]) and {values[first]!r} (entry [{first}]) "
                f"{clash}; list each {what} once"
            )
