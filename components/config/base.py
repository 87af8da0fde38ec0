"""What every config model shares."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    StrictInt,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

from pushpools.components.config.pool_types import KIND_OF_CLOUD, Cloud


class ConfigModel(BaseModel):
    """A config model: a misspelt key is an error, never ignored; text is stripped of
    surrounding spaces; a validated model is frozen; true/false and whole numbers are taken
    only as such, never from text or from each other."""

    # Built on first use, not when the class is made: the strict types below go into the
    # one build (each model was built twice before), and a model only ever used inside
    # another (a pool's names, its work queues) is built as part of it, not on its own.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # pydantic would read "no" as false, "1" as 1 and true as 1. A stack file or a
        # program that writes a boolean or a number as text has made a mistake (YAML 1.2,
        # which Pulumi reads stack files with, keeps `no` a string): refuse it, so that
        # a truthy-looking "no" never turns adoption, deletion or rotation on or off.
        for field in cls.model_fields.values():
            field.annotation = _strict(field.annotation)
        # (pydantic before 2.11 has no such flag; tests/test_config_model.py checks every
        # model's strictness once built, on the lowest pydantic allowed too.)
        if not getattr(cls, "__pydantic_fields_complete__", True):
            # pydantic would collect its fields again when it builds it, from the
            # annotations, and the strict types would be lost without a word.
            raise TypeError(
                f"{cls.__name__}: pydantic could not resolve all its annotations when the class "
                "was made; define the names they use before it"
            )


_STRICT: dict[Any, Any] = {bool: StrictBool, int: StrictInt}


def _strict(annotation: Any) -> Any:
    """`bool` -> StrictBool and `int` -> StrictInt, also inside `X | None`."""
    if annotation in _STRICT:
        return _STRICT[annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is Union:
        members = typing.get_args(annotation)
        strict = tuple(_strict(member) for member in members)
        return annotation if strict == members else Union[strict]  # noqa: UP007
    return annotation


@dataclass(frozen=True)
class LazySection:
    """Field metadata: the settings model of a cloud's section, imported only when a pool
    of that cloud is validated. A stack then builds only the models of the clouds it uses
    (the AWS models alone took a fifth of a GCP-only plan's config import). The field is
    null or that model; its model's errors come out under the field, as a typed field's
    would."""

    cloud: Cloud

    def load(self) -> type[ConfigModel]:
        return KIND_OF_CLOUD[self.cloud].settings_model()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> cs.CoreSchema:
        return cs.nullable_schema(cs.no_info_plain_validator_function(self._validate))

    def __get_pydantic_json_schema__(
        self, schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Describing the section needs its model, as validating one does.
        return handler(cs.nullable_schema(self.load().__pydantic_core_schema__))

    def _validate(self, section: Any) -> ConfigModel:
        return self.load().model_validate(section)


@dataclass(frozen=True)
class FromAnotherResource:
    """Field metadata: as a component arg, the value may be an Output of another resource (a
    project or VPC made elsewhere); `stand_in` is a valid value that takes its place while the
    other settings are checked, and the component uses the real one."""

    stand_in: Any


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
