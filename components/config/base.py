"""What every config model shares."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pushpools.components.config.model import ConfigModel, FieldInfo


@dataclass(frozen=True)
class LazySection:
    """Field metadata: the settings model of a cloud's section, imported only when a pool
    of that cloud is validated. A stack then builds only the models of the clouds it uses
    (the AWS models alone took a fifth of a GCP-only plan's config import)."""

    module: str
    model: str

    def load(self) -> type[ConfigModel]:
        return getattr(importlib.import_module(self.module), self.model)


def field_model(field: FieldInfo) -> type[ConfigModel] | None:
    """The config model a field holds, whether named by its type or by LazySection."""
    for metadata in field.metadata:
        if isinstance(metadata, LazySection):
            return metadata.load()
    return _model_in(field.annotation)


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


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
