"""Scalars as Pulumi reads them: Go's yaml.v3 resolution, and the text Go gives back.

Pulumi reads a stack file with yaml.v3 (3.0.1), writes it out as YAML and reads it again,
then hands each config value to the program as text: strings as they are, other values
as Go's `encoding/json` writes them (see stack_yaml.py for the whole path). PyYAML follows
YAML 1.1, which disagrees on many plain scalars: `yes`, `on` and `12:30` are strings to
yaml.v3 but a boolean and a number to PyYAML; `0o17` is 15 to yaml.v3 and a string to
PyYAML. So plain scalars are resolved here, by yaml.v3's rules (resolve.go):

- `true`/`True`/`TRUE`, `false`/..., `null`/`Null`/`NULL`/`~`/empty, `.inf`/`.nan` in
  their three spellings are what they say; nothing else is a boolean or null;
- a scalar starting with a digit or a sign is, in turn: a timestamp (YYYY-M-D, with an
  optional time), an integer as Go's strconv.ParseInt reads it after removing every `_`
  (`0x1F`, `0o17`, `017` octal, `0b101`), an unsigned integer, or a float (`1e3`, `1.`);
- one starting with `.` may be a float (`.5`); anything else is a string.

A timestamp reaches the program as Go prints a time (`2027-01-31 00:00:00 +0000 UTC`):
never as the date that was written. The answers were checked against yaml.v3 itself
(tests/pulumi_yaml/read_stack.go; docs/verification.md).
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from decimal import Decimal

INT64 = range(-(2**63), 2**63)
UINT64 = range(2**64)

_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_NULL = ("", "~", "null", "Null", "NULL")
_INFINITY = (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")
_MINUS_INFINITY = ("-.inf", "-.Inf", "-.INF")
_NAN = (".nan", ".NaN", ".NAN")
MERGE_KEY = "<<"

_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DOT_FLOAT = re.compile(r"^\.[0-9]+([eE][-+]?[0-9]+)?$")
# The layouts yaml.v3 tries (Go's time.Parse): 1- or 2-digit fields but a 4-digit year;
# a `T`/`t` and a zone, or a space and no zone; up to 9 fractional digits after `.` or `,`.
_TIMESTAMP = re.compile(
    r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?:[Tt](?P<hz>[0-9]{1,2}):(?P<mz>[0-9]{1,2}):(?P<sz>[0-9]{1,2})(?:[.,](?P<fz>[0-9]{1,9}))?"
    r"(?P<zone>Z|[-+][0-9]{2}:[0-9]{2}))"
    r"|(?: (?P<h>[0-9]{1,2}):(?P<m>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?:[.,](?P<f>[0-9]{1,9}))?))?$"
)


class ScalarError(ValueError):
    """An explicitly tagged scalar that its tag cannot hold (`!!int abc`)."""


@dataclass(frozen=True)
class GoTime:
    """A timestamp, as the program receives it: Go's `time.Time.String()`."""

    text: str


def resolve(text: str, tag: str | None = None) -> object:
    """The value yaml.v3 decodes a plain scalar to (`tag`: an explicit `!!bool`, `!!int`,
    `!!float`, `!!null` or `!!timestamp`, which the value must then be)."""
    value = _resolve_plain(text, allow_timestamp=tag in (None, "!!timestamp"))
    if tag is None:
        return value
    if tag == "!!float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if _tag_of(value) != tag:
        raise ScalarError(f"{_tag_of(value)} `{text}` cannot be read as a {tag}")
    return value


def _tag_of(value: object) -> str:
    if value is None:
        return "!!null"
    if isinstance(value, bool):
        return "!!bool"
    if isinstance(value, int):
        return "!!int"
    if isinstance(value, float):
        return "!!float"
    if isinstance(value, GoTime):
        return "!!timestamp"
    return "!!str"


def _resolve_plain(text: str, *, allow_timestamp: bool) -> object:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in _NULL:
        return None
    if text in _INFINITY:
        return math.inf
    if text in _MINUS_INFINITY:
        return -math.inf
    if text in _NAN:
        return math.nan
    first = text[0]
    if first == ".":
        return _go_float(text) if _DOT_FLOAT.match(text) else text
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    if allow_timestamp:
        moment = go_time(text)
        if moment is not None:
            return moment
    plain = text.replace("_", "")
    number = _go_parse_int(plain, signed=True)
    if number is not None and number in INT64:
        return number
    number = _go_parse_int(plain, signed=False)
    if number is not None and number in UINT64:
        return number
    if _YAML_FLOAT.match(plain):
        value = _go_float(plain)
        if isinstance(value, float):
            return value
    return text


def _go_float(text: str) -> float | str:
    # Go's ParseFloat refuses what overflows (Python gives inf); underflow is 0 in both.
    value = float(text)
    return text if math.isinf(value) else value


def _go_parse_int(text: str, *, signed: bool) -> int | None:
    """strconv.ParseInt(text, 0, 64) / ParseUint without the range check."""
    sign, body = 1, text
    if signed and body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base, digits = 10, body
    prefix = body[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        base, digits = {"0x": 16, "0o": 8, "0b": 2}[prefix], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    if not digits or any(c not in _DIGITS[base] for c in digits):
        return None
    return sign * int(digits, base)


def go_time(text: str) -> GoTime | None:
    """A timestamp yaml.v3 recognises, as Go prints it after Pulumi's round trip; None
    when `text` is not one. A zone offset other than zero prints as itself (`+0530
    +0530`), as on a machine whose local zone is UTC (CI runners are)."""
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    year, month, day = int(parts["y"]), int(parts["mo"]), int(parts["d"])
    if not 1 <= month <= 12 or not 1 <= day <= _days_in(year, month):
        return None
    hour, minute, second = (int(parts[k] or parts[k + "z"] or 0) for k in ("h", "m", "s"))
    if hour > 23 or minute > 59 or second > 59:
        return None
    fraction = (parts["f"] or parts["fz"] or "").rstrip("0")
    zone = parts["zone"] or "Z"
    offset = "+0000 UTC"
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 24 or minutes > 59:
            return None
        if hours or minutes:
            numeric = f"{zone[0]}{zone[1:3]}{zone[4:6]}"
            offset = f"{numeric} {numeric}"
    clock = f"{hour:02d}:{minute:02d}:{second:02d}" + (f".{fraction}" if fraction else "")
    return GoTime(f"{year:04d}-{month:02d}-{day:02d} {clock} {offset}")


def _days_in(year: int, month: int) -> int:
    # Year 0 is a leap year to Go (proleptic Gregorian); calendar starts at year 1.
    if month == 2 and year % 400 == 0:
        return 29
    return calendar.monthrange(year or 2000, month)[1]


def go_json_float(value: float) -> str:
    """How Go's encoding/json writes a finite float64: positional from 1e-6 to 1e21,
    else with an exponent (`1e+21`, `1e-7`), always with the shortest digits."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        return _positional(value)
    mantissa, exponent = _scientific(value)
    return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent)}"


def go_format_g(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64): how yaml.v3 writes a float and how `%v`
    prints a map key."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    mantissa, exponent = _scientific(value)
    if exponent < -4 or exponent >= 6:
        return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return _positional(value)


def _positional(value: float) -> str:
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scientific(value: float) -> tuple[str, int]:
    """The shortest digits of `value` as `d.ddd` and its decimal exponent."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(str(d) for d in digits)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return ("-" if sign else "") + mantissa, int(exponent) + len(text) - 1
