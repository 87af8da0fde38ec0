"""Turning a bad stack config into messages a user can act on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from pushpools.components.config.base import ConfigModel, field_model

NAMESPACE = "pushpools"


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
    error: ValidationError, root: type[ConfigModel], prefix: Sequence[str | int] = ()
) -> list[str]:
    """One message per problem, each naming the config key, the value and what is allowed."""
    return describe_errors(error.errors(include_url=False), root, prefix)


def describe_errors(
    errors: Sequence[ErrorDetails], root: type[ConfigModel], prefix: Sequence[str | int] = ()
) -> list[str]:
    """As describe_validation_error, for a selection of its errors."""
    problems = []
    for item in errors:
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
            problems.append(f"{key}: {_show(item.get('input'))} is not allowed; {_expected(item)}")
    return problems


# pydantic's own words name internal classes ("a valid dictionary or instance of
# PoolConfig"); say what the stack file must hold instead.
_EXPECTED = {
    "model_type": "expected a map of settings (key: value lines)",
    "model_attributes_type": "expected a map of settings (key: value lines)",
    "dict_type": "expected a map (key: value lines)",
    "list_type": "expected a list (lines starting with '- ')",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "date_type": "expected a date such as 2027-01-31",
    "date_parsing": "expected a date such as 2027-01-31",
    "date_from_datetime_parsing": "expected a date such as 2027-01-31",
    "too_short": "the list may not be empty",
}


def _expected(item: ErrorDetails) -> str:
    kind = item["type"]
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in ("literal_error", "enum"):
        return "allowed: " + str(item.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "allowed: " + item["msg"].removeprefix("Input should be ")
    return item["msg"]


def _without_union_tags(loc: Sequence[str | int]) -> list[str | int]:
    # pydantic names the chosen member of a union (e.g. "list[str]") in the location.
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


def _allowed_keys(root: type[ConfigModel], loc: Sequence[str | int]) -> list[str]:
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = field_model(field)
    return sorted(model.model_fields) if _is_model(model) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, ConfigModel)


# Credentials a user may paste where a setting belongs: never echo them.
_URL_CREDENTIALS = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")
_PREFECT_KEY = re.compile(r"\bpn[ub]_[A-Za-z0-9]+")
# A credential in a URL's query (`?api_key=...`, `&token=...`).
_QUERY_CREDENTIAL = re.compile(
    r"(?i)([?&;](?:api[_-]?key|access[_-]?token|token|secret|password|key)=)[^&;#\s'\"]+"
)


def masked_text(text: str) -> str:
    """`text` with user:password in URLs, credentials in URL queries and Prefect API keys
    replaced."""
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    text = _QUERY_CREDENTIAL.sub(r"\1***", text)
    return _PREFECT_KEY.sub("pn*_***", text)


def holds_credential(text: str) -> bool:
    """Whether text holds something masked_text would hide: a credential in plain text."""
    return masked_text(text) != text


def _show(value: Any) -> str:
    # As the stack file (YAML or JSON) writes it: true, false, null; text in quotes.
    shown = {True: "true", False: "false", None: "null"}.get(value) if _is_plain(value) else None
    text = masked_text(shown if shown is not None else repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, bool)


def a_or_an(word: str) -> str:
    """`ecs:push` -> `an ecs:push`; for messages."""
    return f"an {word}" if word.lstrip("'\"")[:1].lower() in tuple("aeiou") else f"a {word}"


def is_misspelt_namespace(namespace: str) -> bool:
    """Whether a config namespace looks like a misspelt `pushpools` (another case, a
    separator, or up to two edits away): its keys would be silently ignored."""
    if namespace == NAMESPACE:
        return False
    folded = namespace.lower()
    squeezed = "".join(c for c in folded if c.isalnum())
    return namespace == "" or squeezed == NAMESPACE or _edits(folded, NAMESPACE) <= 2


def misspelt_namespace_problem(full_key: str, where: str = "") -> str:
    """The problem of a key in a misspelt namespace; `where` says where it is written."""
    namespace, _, name = full_key.partition(":")
    return (
        f"{full_key}: {where}`{namespace}:` is not the `{NAMESPACE}:` namespace, so the stack "
        f"program never reads this key and its value would be silently ignored; did you mean "
        f"`{NAMESPACE}:{name}`?"
    )


def _edits(a: str, b: str) -> int:
    """Levenshtein distance, with a swap of two neighbours as one edit."""
    previous: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        earlier, previous, row = previous, row, [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, earlier[j - 2] + 1)
            row.append(cost)
    return row[-1]
