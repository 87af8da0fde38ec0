"""Config models: classes whose annotated fields pydantic-core validates.

A stack's config is checked by pydantic's own validation engine, pydantic-core, with the
same rules and the same error records (`loc`, `type`, `ctx`) a pydantic model gives, but
without importing pydantic itself: pydantic's import and its first model cost a quarter
of what a GCP-only plan's floor does, pydantic-core's under a third of that
(docs/benchmarks.md). The models declare fields, defaults, bounds and validators with the
names pydantic uses for them (`Field`, `field_validator`, `model_validator`), so a model
reads as a pydantic model does.

What a model supports is what the stack config needs: fields of str, int, bool, date,
Any, Literal, StrEnum, list, dict, `X | None` and other models; `ge`, `le`, `min_length`
and `validate_default`; field validators (after, or before) and model validators (after,
or before). Anything else is refused when the model's schema is built, never ignored.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import Enum
from types import NoneType, UnionType
from typing import Any, ClassVar, Literal, Self, dataclass_transform

from pydantic_core import PydanticUndefined, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

__all__ = [
    "ConfigModel",
    "Field",
    "FieldInfo",
    "ValidationError",
    "ValidationInfo",
    "field_validator",
    "model_validator",
]

_FIELDS_SET = "__pydantic_fields_set__"
"""Where pydantic-core puts the names of the fields an input set."""
# Every model: a misspelt key is an error, and text is stripped of surrounding spaces.
_CONFIG = cs.CoreConfig(str_strip_whitespace=True)


class FieldInfo:
    """A field's declaration: its type, default and bounds."""

    __slots__ = ("annotation", "default", "ge", "le", "metadata", "min_length", "validate_default")

    def __init__(
        self,
        default: Any = PydanticUndefined,
        *,
        ge: int | None = None,
        le: int | None = None,
        min_length: int | None = None,
        validate_default: bool = False,
    ) -> None:
        self.annotation: Any = Any
        self.metadata: list[Any] = []
        self.default = default
        self.ge = ge
        self.le = le
        self.min_length = min_length
        self.validate_default = validate_default

    def is_required(self) -> bool:
        return self.default is PydanticUndefined


def Field(  # noqa: N802 - named as pydantic names it, for models that read as pydantic's
    default: Any = PydanticUndefined,
    *,
    ge: int | None = None,
    le: int | None = None,
    min_length: int | None = None,
    validate_default: bool = False,
) -> Any:
    """A field's default and bounds; without a default, the field is required."""
    return FieldInfo(
        default, ge=ge, le=le, min_length=min_length, validate_default=validate_default
    )


@dataclass(frozen=True)
class ValidationInfo:
    """What a field validator is told besides the value."""

    data: dict[str, Any]
    """The fields validated so far (those declared before this one), by name."""
    field_name: str


@dataclass(frozen=True)
class _FieldValidator:
    fields: tuple[str, ...]
    mode: Literal["after", "before"]
    function: Callable[..., Any]


@dataclass(frozen=True)
class _ModelValidator:
    mode: Literal["after", "before"]
    function: Callable[..., Any]


def field_validator(
    *fields: str, mode: Literal["after", "before"] = "after"
) -> Callable[[Any], Any]:
    """Decorates a classmethod `(cls, value)` or `(cls, value, info)` that checks, and may
    change, the value of the named fields; a ValueError it raises is that field's error.
    An `after` validator sees the value once its type is checked, a `before` one the raw
    input."""

    def decorate(method: Any) -> Any:
        function = method.__func__ if isinstance(method, classmethod) else method
        return _FieldValidator(fields, mode, function)

    return decorate


def model_validator(*, mode: Literal["after", "before"]) -> Callable[[Any], Any]:
    """Decorates a check of the whole model: `after`, a method `(self)` returning the
    model, run once every field is valid; `before`, a classmethod `(cls, data)` returning
    the data to validate."""

    def decorate(method: Any) -> Any:
        function = method.__func__ if isinstance(method, classmethod) else method
        return _ModelValidator(mode, function)

    return decorate


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class _ModelClass(type):
    """Collects a model's fields and validators as its class is made; its schema is built
    on its first validation (annotations may name classes defined later in the module)."""

    _own_validators: list[_FieldValidator | _ModelValidator]
    _field_infos: dict[str, FieldInfo] | None
    _schema_validator: SchemaValidator | None

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        validators = {
            key: value
            for key, value in namespace.items()
            if isinstance(value, _FieldValidator | _ModelValidator)
        }
        for key in validators:  # not methods of the model: its schema calls them
            del namespace[key]
        cls = super().__new__(mcs, name, bases, namespace)
        cls._own_validators = list(validators.values())
        cls._field_infos = None
        cls._schema_validator = None
        return cls

    @property
    def model_fields(cls) -> dict[str, FieldInfo]:
        """Field name -> its declaration, in declaration order (bases' first)."""
        if cls._field_infos is None:
            cls._field_infos = _collect_fields(cls)
        return cls._field_infos


class ConfigModel(metaclass=_ModelClass):
    """A frozen, strict config model: a misspelt key is an error, never ignored.

    Instances hold their values as attributes; `model_fields_set` names the fields the
    input set (a default is not set).
    """

    # pydantic-core sets these on every model it validates, as on pydantic's BaseModel;
    # as slots, they stay out of the fields' `__dict__`.
    __slots__ = ("__dict__", "__pydantic_extra__", _FIELDS_SET, "__pydantic_private__")
    model_fields: ClassVar[dict[str, FieldInfo]]

    def __init__(self, **data: Any) -> None:
        validated = type(self).model_validate(data)
        object.__setattr__(self, "__dict__", validated.__dict__)
        object.__setattr__(self, _FIELDS_SET, validated.model_fields_set)

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """The model `data` (a map, or an instance) describes, or ValidationError listing
        every problem in it."""
        return _validator(cls).validate_python(data)

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:
        """A model of trusted values, not validated; unset fields take their defaults."""
        model = cls.__new__(cls)
        filled = {
            name: values[name] if name in values else _copy_default(info.default)
            for name, info in cls.model_fields.items()
            if name in values or not info.is_required()
        }
        _set_state(model, filled, set(values) if _fields_set is None else _fields_set)
        return model

    @property
    def model_fields_set(self) -> set[str]:
        return getattr(self, _FIELDS_SET)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        """A copy with `update`'s values, not validated; the updated fields count as set."""
        copy = type(self).__new__(type(self))
        _set_state(
            copy, {**self.__dict__, **(update or {})}, self.model_fields_set | set(update or ())
        )
        return copy

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        exclude_unset: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The values as plain maps and lists; `json`: enums as their values and dates
        as ISO text."""
        return {
            name: _dump(value, mode, exclude_unset, exclude_none)
            for name, value in self.__dict__.items()
            if not (exclude_unset and name not in self.model_fields_set)
            and not (exclude_none and value is None)
        }

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        yield from self.__dict__.items()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({values})"

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self.__dict__, "fields_set": self.model_fields_set}

    def __setstate__(self, state: dict[str, Any]) -> None:
        _set_state(self, state["values"], state["fields_set"])


def _set_state(model: ConfigModel, values: dict[str, Any], fields_set: set[str]) -> None:
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, _FIELDS_SET, fields_set)


def _copy_default(default: Any) -> Any:
    # A default list or map is each instance's own, as pydantic-core gives it.
    return default.copy() if isinstance(default, list | dict) else default


def _dump(
    value: Any, mode: Literal["python", "json"], exclude_unset: bool, exclude_none: bool
) -> Any:
    if isinstance(value, ConfigModel):
        return value.model_dump(mode=mode, exclude_unset=exclude_unset, exclude_none=exclude_none)
    if isinstance(value, list | tuple):
        return [_dump(v, mode, exclude_unset, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, mode, exclude_unset, exclude_none) for k, v in value.items()}
    if mode == "json" and isinstance(value, Enum):
        return value.value
    if mode == "json" and isinstance(value, date):
        return value.isoformat()
    return value


def _collect_fields(cls: _ModelClass) -> dict[str, FieldInfo]:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, FieldInfo] = {}
    for base in reversed(cls.__mro__):
        for name in vars(base).get("__annotations__", {}):
            if name.startswith("_") or typing.get_origin(hints[name]) is ClassVar:
                continue
            declared = vars(base).get(name, PydanticUndefined)
            info = declared if isinstance(declared, FieldInfo) else FieldInfo(declared)
            annotation = hints[name]
            if typing.get_origin(annotation) is typing.Annotated:
                annotation, *info.metadata = typing.get_args(annotation)
            info.annotation = annotation
            fields[name] = info
    return fields


def _validator(cls: _ModelClass) -> SchemaValidator:
    if cls._schema_validator is None:
        cls._schema_validator = SchemaValidator(_model_schema(cls), _CONFIG)
    return cls._schema_validator


def _validators_of(cls: _ModelClass) -> list[_FieldValidator | _ModelValidator]:
    return [v for base in reversed(cls.__mro__) for v in vars(base).get("_own_validators", [])]


def _model_schema(cls: _ModelClass) -> cs.CoreSchema:
    validators = _validators_of(cls)
    for v in validators:
        if not isinstance(v, _FieldValidator):
            continue
        unknown = [f for f in v.fields if f not in cls.model_fields]
        if unknown:
            raise TypeError(
                f"{cls.__name__}.{v.function.__name__} validates unknown fields {unknown}"
            )
    fields = {
        name: cs.model_field(_field_schema(cls, name, info, validators))
        for name, info in cls.model_fields.items()
    }
    inner: cs.CoreSchema = cs.model_fields_schema(
        fields, model_name=cls.__name__, extra_behavior="forbid"
    )
    for v in validators:
        if isinstance(v, _ModelValidator) and v.mode == "before":
            inner = cs.no_info_before_validator_function(_bound(v.function, cls), inner)
    schema: cs.CoreSchema = cs.model_schema(
        cls, inner, custom_init=False, extra_behavior="forbid", config=_CONFIG
    )
    for v in validators:
        if isinstance(v, _ModelValidator) and v.mode == "after":
            schema = cs.no_info_after_validator_function(v.function, schema)
    return schema


def _bound(function: Callable[..., Any], cls: type) -> Callable[..., Any]:
    return function.__get__(cls, type(cls))


def _field_schema(
    cls: _ModelClass, name: str, info: FieldInfo, validators: list[Any]
) -> cs.CoreSchema:
    schema = _type_schema(info.annotation, info, f"{cls.__name__}.{name}")
    for v in validators:
        if isinstance(v, _FieldValidator) and name in v.fields:
            check = _with_info(_bound(v.function, cls), name)
            if v.mode == "after":
                schema = cs.with_info_after_validator_function(check, schema)
            else:
                schema = cs.with_info_before_validator_function(check, schema)
    if info.is_required():
        return schema
    return cs.with_default_schema(
        schema, default=info.default, validate_default=info.validate_default or None
    )


def _with_info(check: Callable[..., Any], field_name: str) -> Callable[[Any, Any], Any]:
    # A validator declares an `info` parameter only when it reads the other fields.
    if check.__code__.co_argcount < 3:  # type: ignore[attr-defined]
        return lambda value, _: check(value)
    return lambda value, info: check(value, ValidationInfo(info.data, field_name))


_NO_BOUNDS = FieldInfo()
"""For the items of a list or map: the field's bounds are the container's."""


def _type_schema(annotation: Any, info: FieldInfo, where: str) -> cs.CoreSchema:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (UnionType, typing.Union) and NoneType in args and len(args) == 2:
        other = next(a for a in args if a is not NoneType)
        return cs.nullable_schema(_type_schema(other, info, where))
    if origin is list:
        return cs.list_schema(_type_schema(args[0], _NO_BOUNDS, where), min_length=info.min_length)
    if origin is dict:
        keys, values = (_type_schema(a, _NO_BOUNDS, where) for a in args)
        return cs.dict_schema(keys, values)
    if origin is Literal:
        return cs.literal_schema(list(args))
    if annotation is str:
        return cs.str_schema()
    if annotation is bool:
        return cs.bool_schema()
    if annotation is int:
        return cs.int_schema(ge=info.ge, le=info.le)
    if annotation is date:
        return cs.date_schema()
    if annotation is Any:
        return cs.any_schema()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = list(annotation.__members__.values())
        sub_type = "str" if issubclass(annotation, str) else None
        return cs.enum_schema(annotation, members, sub_type=sub_type)
    if isinstance(annotation, _ModelClass):
        return _model_schema(annotation)
    raise TypeError(f"{where}: config models do not support fields of type {annotation!r}")
