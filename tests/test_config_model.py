"""Config models (components/config/model.py): pydantic's rules and error records from
pydantic-core alone, and the model methods the components use."""

from __future__ import annotations

import pickle
from datetime import date
from enum import StrEnum
from typing import Any, Literal

import pydantic
import pytest

from pushpools.components.config.model import (
    ConfigModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Inner(ConfigModel):
    name: str
    size: int = Field(default=1, ge=1, le=10)


class Outer(ConfigModel):
    title: str
    colour: Colour = Colour.RED
    mode: Literal["fast", "safe"] = "safe"
    enabled: bool | None = None
    until: date | None = None
    tags: list[str] = Field(default=[])
    env: dict[str, str] = Field(default={})
    inner: Inner | None = None
    items: list[Inner] = Field(min_length=1)


def _pydantic_twin() -> type[pydantic.BaseModel]:
    """Outer as a pydantic model, with the same class names (messages name them)."""
    strict = pydantic.ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    class Inner(pydantic.BaseModel):
        model_config = strict
        name: str
        size: int = pydantic.Field(default=1, ge=1, le=10)

    class Outer(pydantic.BaseModel):
        model_config = strict
        title: str
        colour: Colour = Colour.RED
        mode: Literal["fast", "safe"] = "safe"
        enabled: bool | None = None
        until: date | None = None
        tags: list[str] = pydantic.Field(default=[])
        env: dict[str, str] = pydantic.Field(default={})
        inner: Inner | None = None
        items: list[Inner] = pydantic.Field(min_length=1)

    return Outer


_PydanticOuter = _pydantic_twin()


BAD_INPUTS = [
    {},
    {"title": 3, "items": []},
    {"title": "t", "items": [{"name": "a", "size": 0}], "colour": "green"},
    {"title": "t", "items": [{"name": "a", "size": "11"}], "mode": "slow", "enabled": "maybe"},
    {"title": "t", "items": [{"nme": "a"}], "tags": "x", "env": {"a": 1}, "until": "soon"},
    {"title": "t", "items": "a", "inner": {"name": None}, "extra": 1},
    {"title": "t", "items": [{"name": "a"}], "inner": [1], "until": "2027-02-30"},
    "not a map",
]


def _records(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {k: str(v) if k == "ctx" else v for k, v in e.items()}
        for e in error.errors(include_url=False)
    ]


@pytest.mark.parametrize("data", BAD_INPUTS)
def test_bad_input_gives_the_error_records_a_pydantic_model_gives(data: Any) -> None:
    # The messages of tests/bad_stacks are written from these records (errors.py).
    with pytest.raises(ValidationError) as ours:
        Outer.model_validate(data)
    with pytest.raises(pydantic.ValidationError) as theirs:
        _PydanticOuter.model_validate(data)
    assert _records(ours.value) == _records(theirs.value)


def test_valid_input_gives_the_values_a_pydantic_model_gives() -> None:
    data = {
        "title": "  padded  ",
        "colour": "blue",
        "enabled": "yes",
        "until": "2027-01-31",
        "inner": {"name": "i", "size": "3"},
        "items": [{"name": "a"}],
    }
    ours = Outer.model_validate(data)
    theirs = _PydanticOuter.model_validate(data)
    assert ours.model_dump(mode="json") == theirs.model_dump(mode="json")
    assert ours.model_dump()["colour"] is Colour.BLUE
    assert ours.model_fields_set == theirs.model_fields_set


def test_a_model_is_frozen() -> None:
    model = Inner(name="a")
    with pytest.raises(AttributeError, match="frozen"):
        model.name = "b"  # type: ignore[misc]


def test_each_instance_has_its_own_default_list() -> None:
    first = Outer.model_validate({"title": "a", "items": [{"name": "a"}]})
    second = Outer.model_validate({"title": "b", "items": [{"name": "b"}]})
    first.tags.append("x")
    assert second.tags == []
    assert Outer.model_construct(title="c").tags == []


def test_dump_of_what_was_set_leaves_defaults_out() -> None:
    model = Outer.model_validate({"title": "a", "items": [{"name": "a"}], "until": "2027-01-31"})
    assert model.model_dump(mode="json", exclude_unset=True) == {
        "title": "a",
        "items": [{"name": "a"}],
        "until": "2027-01-31",
    }


def test_a_copy_counts_its_updates_as_set_and_keeps_the_original() -> None:
    model = Inner(name="a")
    copy = model.model_copy(update={"size": 5})
    assert (copy.size, copy.model_fields_set) == (5, {"name", "size"})
    assert (model.size, model.model_fields_set) == (1, {"name"})


def test_models_compare_by_value_and_survive_pickling() -> None:
    model = Outer.model_validate({"title": "a", "items": [{"name": "a"}], "colour": "blue"})
    again = pickle.loads(pickle.dumps(model))
    assert again == model
    assert again.model_fields_set == model.model_fields_set
    assert model != Outer.model_validate({"title": "b", "items": [{"name": "a"}]})


class Checked(ConfigModel):
    low: int
    high: int
    label: str = "x"

    @field_validator("high")
    @classmethod
    def _above_low(cls, value: int, info: ValidationInfo) -> int:
        if "low" in info.data and value <= info.data["low"]:
            raise ValueError(f"{info.field_name} must exceed low ({info.data['low']})")
        return value

    @field_validator("label", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _numbers_from_a_pair(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _not_too_wide(self) -> Checked:
        if self.high - self.low > 100:
            raise ValueError("at most 100 apart")
        return self


def test_field_validators_see_earlier_fields_and_raw_input() -> None:
    assert Checked.model_validate({"low": 1, "high": 2, "label": "ABC"}).label == "abc"
    with pytest.raises(ValidationError) as error:
        Checked.model_validate({"low": 5, "high": 3})
    [record] = error.value.errors(include_url=False)
    assert record["loc"] == ("high",)
    assert str(record["ctx"]["error"]) == "high must exceed low (5)"


def test_model_validators_run_before_and_after_the_fields() -> None:
    assert Checked.model_validate([1, 2]).high == 2
    with pytest.raises(ValidationError) as error:
        Checked.model_validate([1, 500])
    [record] = error.value.errors(include_url=False)
    assert (record["loc"], record["type"]) == ((), "value_error")
    # A field's error stops the model's own check: only the field is reported.
    with pytest.raises(ValidationError) as error:
        Checked.model_validate({"low": "x", "high": 500})
    assert [e["loc"] for e in error.value.errors()] == [("low",)]


def test_a_field_type_the_models_do_not_support_is_refused_by_name() -> None:
    class Unsupported(ConfigModel):
        ratio: float

    with pytest.raises(TypeError, match=r"Unsupported\.ratio: .*float"):
        Unsupported.model_validate({"ratio": 1.0})


def test_a_validator_of_a_field_the_model_lacks_is_refused() -> None:
    class Misspelt(ConfigModel):
        region: str

        @field_validator("regoin")
        @classmethod
        def _known_region(cls, value: str) -> str:
            raise ValueError("never called")

    with pytest.raises(
        TypeError, match=r"Misspelt\._known_region validates unknown fields \['regoin'\]"
    ):
        Misspelt.model_validate({"region": "x"})
