"""Markdown tables of the configuration and the component API, made from the models.

Each setting is described once, in its model's `Field(description=...)`; these tables show
it with its key as the stack file spells it (nested keys dotted: `names.repository`), its
type, its default and that description. The component tables come from the component
package's schema (what every Pulumi language sees), with the defaults of the settings the
args mirror.
"""

from __future__ import annotations

import datetime
import re
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pushpools.components.config.base import LazySection
from pushpools.components.config.pool_types import KINDS, PoolKind
from pushpools.components.config.stack import PoolConfig, StackConfig
from pushpools.components.naming import Naming

# Stand-ins for the pool's name when its default physical names are worked out: two, so
# that a name which also depends on something else (a hash of the subscription) shows up.
_POOL = "mypool"
_OTHER_POOL = "otherpool"
_DASHED_POOL = "my-pool"  # names that rewrite the pool's dashes (GCP role IDs take none)
_PLACEHOLDER = "placeholder"

Link = Callable[[type[BaseModel]], str | None]
"""The Markdown link to the table that documents a model elsewhere (None: nowhere)."""


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    description: str


def table(header: str, rows: list[Row]) -> str:
    lines = [f"| {header} | Type | Default | Description |", "|---|---|---|---|"]
    lines += [
        f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.description)} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


# --- The stack file: one row per key, nested models expanded ---------------------------


def model_rows(
    model: type[BaseModel],
    prefix: str = "",
    defaults: Mapping[str, str] | None = None,
    link: Link | None = None,
) -> list[Row]:
    """A row per field of `model`, and of every model nested in it (`names.repository`,
    `statements[].actions`) unless `link` names another table that documents it.
    `defaults`: dotted key -> default text, where the model's own default says too little
    (physical names derived from the pool's name)."""
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        nested, is_list = _nested(field)
        elsewhere = link(nested) if link is not None and nested is not None else None
        description = _one_line(field.description or "")
        if elsewhere:
            description += f" Its keys: {elsewhere}."
        default = (defaults or {}).get(key) or default_text(field)
        rows.append(Row(key, type_text(field), default, description))
        if nested is not None and not elsewhere:
            rows += model_rows(nested, f"{key}{'[].' if is_list else '.'}", defaults, link)
    return rows


def type_text(field: FieldInfo) -> str:
    annotation, nullable = _without_none(field.annotation)
    if any(isinstance(m, LazySection) for m in field.metadata):
        text = "map"
    else:
        text = _annotation_text(annotation)
    bounds = _bounds(field.metadata)
    if bounds:
        text += bounds if text == "integer" else f", {bounds.strip()}"
    default = None if field.is_required() else field.get_default(call_default_factory=True)
    if nullable and default is not None:
        # Only where null means something other than "unset" (e.g. keep logs forever).
        text += " or `null`"
    return text


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "—"  # a map: each of its keys has its own default
    return _yaml_value(value)


def _yaml_value(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value == []:
        return "`[]`"
    if value == {}:
        return "`{}`"
    return f"`{value}`"


def _annotation_text(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:  # StrictBool, StrictInt: the type under the constraint
        return _annotation_text(get_args(annotation)[0])
    if origin is list:
        (item,) = get_args(annotation)
        return "list of maps" if _is_model(item) else f"list of {_annotation_text(item)}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"map of {_annotation_text(key)} to {_annotation_text(value)}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " | ".join(f"`{member.value}`" for member in annotation)
    if _is_model(annotation):
        return "map"
    simple = {str: "string", bool: "bool", int: "integer", datetime.date: "date (`YYYY-MM-DD`)"}
    return simple.get(annotation, "any")


def _bounds(metadata: list[Any]) -> str:
    low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    min_length = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), 0)
    if low is not None and high is not None:
        return f" {low}–{high}"  # noqa: RUF001 - a range, as the docs write it
    if low is not None:
        return f" ≥ {low}"
    if high is not None:
        return f" ≤ {high}"
    if min_length == 1:
        return " at least one"
    return ""


def _without_none(annotation: Any) -> tuple[Any, bool]:
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else annotation), True
    return annotation, False


def _nested(field: FieldInfo) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (`X`, `X | None`, `list[X]`, a lazy cloud section) and
    whether it is a list of them."""
    for metadata in field.metadata:
        if isinstance(metadata, LazySection):
            return metadata.load(), False
    annotation, _ = _without_none(field.annotation)
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return (item, True) if _is_model(item) else (None, False)
    return (annotation, False) if _is_model(annotation) else (None, False)


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


# --- Default physical names ---------------------------------------------------------------


def name_defaults(kind: PoolKind) -> dict[str, str]:
    """Dotted key -> the default of each physical name a kind's settings fill in from the
    pool's name: `<pool>-images` (helper: `prefect-images`), as `resolve_names` makes it."""
    settings = kind.settings_model()
    if not hasattr(settings, "resolve_names"):
        return {}
    unset = _constructed(settings)
    derived = _leaves(unset.resolve_names(_POOL, Naming.DERIVED))
    derived_other = _leaves(unset.resolve_names(_OTHER_POOL, Naming.DERIVED))
    derived_dashed = _leaves(unset.resolve_names(_DASHED_POOL, Naming.DERIVED))
    helper = _leaves(unset.resolve_names(_POOL, Naming.HELPER))
    found = {}
    for key, before in _leaves(unset).items():
        name = derived.get(key)
        if before is not None or not isinstance(name, str):
            continue
        template = name.replace(_POOL, "<pool>")
        if (
            template != derived_other[key].replace(_OTHER_POOL, "<pool>")
            or template != derived_dashed[key].replace(_DASHED_POOL, "<pool>")
            or helper.get(key) is None  # under helper, from another setting (Coiled's workspace)
        ):
            continue  # it depends on more than the pool's name: its description says how
        text = f"`{template}`"
        if helper.get(key) is not None and helper[key] != name:
            text += f" (helper: `{helper[key]}`)"
        found[key] = text
    return found


def _constructed(model: type[BaseModel]) -> Any:
    """An instance with every setting at its default, every optional nested model present
    (so that its names are filled in too) and stand-ins for required values; unchecked."""
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        nested, is_list = _nested(field)
        if nested is not None and not is_list:
            values[name] = _constructed(nested)
        elif field.is_required():
            values[name] = _PLACEHOLDER
    return model.model_construct(**values)


def _leaves(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found.update(_leaves(value, f"{prefix}{name}."))
        else:
            found[f"{prefix}{name}"] = value
    return found


# --- Pool-level keys whose defaults the registry knows -------------------------------------


def block_name_default() -> str:
    """Each kind's default credentials block name, as Prefect's helper names it."""
    by_name: dict[str, list[str]] = {}
    for kind in KINDS:
        if kind.block_type_slug is not None:
            name = kind.default_block_name.format(pool="<pool>")
            by_name.setdefault(name, []).append(f"`{kind.cloud.value}`")
    return "; ".join(
        f"`{name}` ({' and '.join(sections)} pools)" for name, sections in by_name.items()
    )


def pool_rows(link: Link) -> list[Row]:
    return model_rows(
        PoolConfig, defaults={"credentials_block_name": block_name_default()}, link=link
    )


def stack_rows(link: Link) -> list[Row]:
    return model_rows(StackConfig, prefix="pushpools:", link=link)


# --- The component API, from the package schema ------------------------------------------


def component_tables(schema: Mapping[str, Any]) -> str:
    """Per kind of pool (the registry's order): its arguments, nested ones dotted, with
    defaults, and its outputs."""
    parts = []
    for kind in KINDS:
        module, cls = kind.component.split(":")
        resource = schema["resources"][f"pushpools:index:{cls}"]
        rows = list(_arg_rows(schema, resource, kind))
        parts += [
            f"### `{cls}` (`{module}`)",
            "",
            "| Argument (Python / other languages) | Type | Default | Description |",
            "|---|---|---|---|",
            *rows,
            "",
            "| Output | Type | Secret | Description |",
            "|---|---|---|---|",
        ]
        for name, prop in resource["properties"].items():
            parts.append(
                f"| `{_snake(name)}` / `{name}` | {_cell(_schema_type(schema, prop, False))} | "
                f"{'yes' if prop.get('secret') else 'no'} | "
                f"{_cell(prop.get('description', ''))} |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _arg_rows(
    schema: Mapping[str, Any], resource: Mapping[str, Any], kind: PoolKind
) -> Iterator[str]:
    settings = kind.settings_model()
    pool_level = {
        **{name: PoolConfig.model_fields[name] for name in ("type", "naming")},
        "labels": StackConfig.model_fields["labels"],
    }
    names = name_defaults(kind)
    block_name = kind.default_block_name.format(pool="<pool>")
    required = set(resource.get("requiredInputs", []))
    for name, prop in resource["inputProperties"].items():
        snake = _snake(name)
        field = settings.model_fields.get(snake) or pool_level.get(snake)
        if name in required:
            default = "required"
        elif snake == "type":
            default = f"`{kind.types[0].value}`"
        elif snake == "credentials_block_name":
            default = f"`{block_name}`"
        else:
            default = default_text(field) if field is not None else "unset"
        type_cell = _schema_type(schema, prop, True)
        if snake == "type":
            # The schema's enum is every pool type; a component takes only its own.
            type_cell = " | ".join(f"`{t.value}`" for t in kind.types)
        yield _arg_row(snake, name, type_cell, default, prop.get("description", ""))
        nested = _nested(field)[0] if field is not None else None
        yield from _nested_arg_rows(schema, prop, nested, snake, name, names)


def _nested_arg_rows(
    schema: Mapping[str, Any],
    prop: Mapping[str, Any],
    model: type[BaseModel] | None,
    snake_prefix: str,
    camel_prefix: str,
    names: Mapping[str, str],
) -> Iterator[str]:
    is_list = prop.get("type") == "array"
    ref = (prop.get("items", {}) if is_list else prop).get("$ref", "")
    if not ref.startswith("#/types/"):
        return
    declared = schema["types"][ref.removeprefix("#/types/")]
    if "properties" not in declared:
        return  # an enum
    join = "[]." if is_list else "."
    required = set(declared.get("required", []))
    for name, inner in declared["properties"].items():
        snake = f"{snake_prefix}{join}{_snake(name)}"
        camel = f"{camel_prefix}{join}{name}"
        field = model.model_fields.get(_snake(name)) if model is not None else None
        if name in required:
            default = "required"
        else:
            default = names.get(snake) or (default_text(field) if field is not None else "unset")
        yield _arg_row(
            snake, camel, _schema_type(schema, inner, True), default, inner.get("description", "")
        )
        nested = _nested(field)[0] if field is not None else None
        yield from _nested_arg_rows(schema, inner, nested, snake, camel, names)


def _arg_row(snake: str, camel: str, type_cell: str, default: str, description: str) -> str:
    cells = " | ".join(_cell(text) for text in (type_cell, default, description))
    return f"| `{snake}` / `{camel}` | {cells} |"


def _schema_type(schema: Mapping[str, Any], prop: Mapping[str, Any], is_input: bool) -> str:
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        declared = schema["types"][ref.removeprefix("#/types/")]
        if "enum" in declared:
            text = " | ".join(f"`{v['value']}`" for v in declared["enum"])
        else:
            text = "map" if is_input else f"`{ref.rsplit(':', 1)[-1]}`"
    elif prop.get("type") == "array":
        items = prop["items"]
        text = "list of maps" if "$ref" in items else f"list of {items.get('type', 'any')}"
    elif prop.get("type") == "object":
        text = f"map of {prop.get('additionalProperties', {}).get('type', 'any')}"
    else:
        text = prop.get("type", "any")
    # An input the schema does not mark plain may be another resource's output.
    return f"{text} (Input)" if is_input and not prop.get("plain") else text


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")
