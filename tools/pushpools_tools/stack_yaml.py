"""A stack file read as `pulumi up` reads it, and the text each config value reaches the
program as.

Pulumi (sdk/go/common/workspace/loaders.go and resource/config, read at v3.259) reads
`Pulumi.<stack>.yaml` in four steps, reproduced here:

1. the bytes, less a leading UTF-8 byte-order mark;
2. yaml.v3 into plain values (yaml_reader.py: repeated keys, aliases, scalars);
3. config keys without a namespace go into the project's (`pools` -> `pushpools:pools`),
   and `ns:config:key` is the old spelling of `ns:key`;
4. the file is written out as YAML and read again, and each config value handed to the
   program as text: a string as it is, `{secure: ...}` as a secret, anything else as Go's
   `encoding/json` writes it (map keys sorted, a whole float as an integer, a timestamp
   as Go prints a time); NaN and infinity make Pulumi stop.

Beyond what Pulumi refuses, what it would silently drop or misread is refused too, with
the line and what to change: a second YAML document, a top-level key it ignores (`Config:`),
tags, keys that collapse into one, a byte-order mark inside the file, UTF-16. Keys of a
namespace that looks like a misspelt `pushpools` are not refused here: they are reported
with the config's own problems (StackFile.namespace_problems), in the same pass.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pushpools.components.config.errors import (
    NAMESPACE,
    is_misspelt_namespace,
    misspelt_namespace_problem,
)
from pushpools.components.config.stack import StackConfig
from pushpools_tools.yaml_reader import (
    Document,
    KeyPath,
    Problem,
    ReadError,
    Written,
    display_path,
    is_finite,
    read_yaml,
)
from pushpools_tools.yaml_scalars import GoTime, go_json_float

SECRET_PLACEHOLDER = "[secret: encrypted in the stack file]"  # noqa: S105 - a mask
_STACK_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (  # longest first: UTF-32 LE starts like UTF-16 LE
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_MAX_SHOWN = 10  # encoding problems listed one by one; beyond, a count
_MAX_BYTES = 64 * 2**20  # read whole: a device or a huge file must not exhaust memory


class StackFileError(Exception):
    """A project or stack file is missing, or Pulumi would not read it as it stands;
    `problems` says where and why, one line each."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message + "".join(f"\n  - {p}" for p in self.problems))


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    """`namespace:key` -> the text the program receives."""
    values: dict[str, Any]
    """`namespace:key` -> the value, as the program decodes it (secrets masked)."""
    secret_keys: list[str]
    environment: Any
    """The `environment:` value (ESC environments the stack imports), None when absent."""
    written: dict[str, ReadAs]
    """Config key path (`pushpools:pools[0].aws.log_retention_days`) -> how its value was
    written and read, for values that are not the text written (`010` is 8)."""
    namespace_problems: list[str]
    """Keys of a namespace that looks like a misspelt `pushpools`, for the config check."""


def read_stack_file(path: Path, project: str) -> StackFile:
    """Read a stack file as Pulumi does, or raise StackFileError listing every problem."""
    document = read_document(path, "stack file")
    problems = list(document.problems)
    top = document.value if document.value is not None else {}
    if not isinstance(top, dict):
        problems.append(Problem(1, _not_a_map(top)))
        top = {}
    problems += _top_level_problems(top, document)
    raw = top.get("config")
    if raw is not None and not isinstance(raw, dict):
        problems.append(Problem(document.lines.get(("config",)), _CONFIG_NOT_A_MAP))
        raw = None
    config: dict[str, Any] = raw or {}
    keys, key_problems = _config_keys(config, document, project)
    problems += key_problems
    problems += _value_problems(keys, config, document)
    if problems:
        raise _error(path, "stack file", problems)
    return StackFile(
        config={full: program_text(config[key]) for full, key in keys.items()},
        values={full: _program_value(config[key]) for full, key in keys.items()},
        secret_keys=[full for full, key in keys.items() if _has_ciphertext(config[key])],
        environment=top.get("environment"),
        written=_written(keys, document),
        namespace_problems=_namespace_problems(keys, document),
    )


def read_project_file(path: Path) -> dict[str, Any]:
    """Pulumi.yaml's values (read with the same rules), or StackFileError."""
    document = read_document(path, "project file")
    problems = list(document.problems)
    if not isinstance(document.value, dict):
        problems.append(Problem(1, _not_a_map(document.value)))
    if problems:
        raise _error(path, "project file", problems)
    return document.value


def read_document(path: Path, what: str) -> Document:
    """The file's bytes checked as UTF-8 and read as YAML the way Pulumi reads them."""
    if path.is_dir():
        raise StackFileError(
            f"{path}: is a folder, not a {what}; give the file itself, e.g. stacks/Pulumi.dev.yaml"
        )
    try:
        if path.exists() and not path.is_file():
            raise StackFileError(f"{path}: not a regular file; give the {what} itself")
        if path.stat().st_size > _MAX_BYTES:
            raise StackFileError(
                f"{path}: {path.stat().st_size:,} bytes; a {what} is far smaller (5,000 pools "
                f"take about 1 MB, {_MAX_BYTES // 2**20} MiB at most are read)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    text, problems = _decoded(data)
    if problems:
        raise _error(path, what, problems)
    try:
        return read_yaml(text)
    except ReadError as error:
        raise _error(path, what, error.problems) from None


def _error(path: Path, what: str, problems: list[Problem]) -> StackFileError:
    ordered = sorted(problems, key=lambda p: p.line or 0)
    noun = "problem" if len(ordered) == 1 else "problems"
    return StackFileError(
        f"invalid {what} {path} ({len(ordered)} {noun}):", [str(p) for p in ordered]
    )


def _decoded(data: bytes) -> tuple[str, list[Problem]]:
    """The text, or why the bytes are not a UTF-8 YAML file."""
    for bom, encoding in _OTHER_BOMS:
        if data.startswith(bom):
            return "", [
                Problem(
                    1,
                    f"the file is {encoding} (it starts with a {encoding} byte-order mark); "
                    "stack files are UTF-8: save it as UTF-8",
                )
            ]
    data = data.removeprefix(_UTF8_BOM)  # as Pulumi strips it
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return "", [
            Problem(
                line,
                "a NUL byte: the file looks UTF-16 encoded without a byte-order mark; "
                "stack files are UTF-8: save it as UTF-8",
            )
        ]
    problems = _not_utf8(data)
    if problems:
        return "", problems
    text = data.decode("utf-8")
    return text, _inner_boms(text)


def _not_utf8(data: bytes) -> list[Problem]:
    problems: dict[int, Problem] = {}
    more = 0
    start = 0
    while True:
        try:
            data[start:].decode("utf-8")
            break
        except UnicodeDecodeError as error:
            at = start + error.start
            line = data.count(b"\n", 0, at) + 1
            if line not in problems and len(problems) < _MAX_SHOWN:
                byte = data[at]
                guess = bytes([byte]).decode("cp1252", errors="replace")
                problems[line] = Problem(
                    line,
                    f"byte 0x{byte:02X} is not UTF-8 (in Latin-1 or Windows-1252 it would be "
                    f"{guess!r}); stack files are UTF-8: save the file as UTF-8",
                )
            elif line not in problems:
                more += 1
            start = start + error.end
    listed = list(problems.values())
    if more:
        listed.append(Problem(None, f"and more bytes that are not UTF-8 on {more} more lines"))
    return listed


def _inner_boms(text: str) -> list[Problem]:
    problems = []
    at = text.find("\ufeff")
    while at != -1 and len(problems) < _MAX_SHOWN:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        problems.append(
            Problem(
                line,
                f"column {column}: an invisible byte-order mark (U+FEFF), allowed only as the "
                "file's first character (one often lands inside when files are joined): "
                "delete it",
            )
        )
        at = text.find("\ufeff", at + 1)
    return problems


def _not_a_map(value: Any) -> str:
    kind = "a list" if isinstance(value, list) else f"the value {value!r}"
    return (
        f"the file holds {kind}, not a map of settings; a stack file has `config:` "
        "(and optionally `environment:`) at the top"
    )


_CONFIG_NOT_A_MAP = (
    "config: must be a map of `<namespace>:<key>: <value>` lines, e.g. "
    "`pushpools:pools:` on its own line with the pools below it"
)


def _top_level_problems(top: dict[str, Any], document: Document) -> list[Problem]:
    problems = []
    for key in top:
        if key in _STACK_KEYS and (key,) not in document.text_keys:
            continue
        if (key,) in document.anchored:
            continue  # a place for anchors (`defaults: &defaults ...`), which aliases reuse
        close = difflib.get_close_matches(key.lower(), _STACK_KEYS, n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        problems.append(
            Problem(
                document.lines.get((key,)),
                f"{key}: not a stack file setting, so Pulumi ignores it and everything under "
                f"it (allowed: {', '.join(_STACK_KEYS)}){hint}",
            )
        )
    return problems


def _config_keys(
    config: dict[str, Any], document: Document, project: str
) -> tuple[dict[str, str], list[Problem]]:
    """Full key (`namespace:key`) -> the key as written, and the keys Pulumi refuses or
    that name one key twice."""
    keys: dict[str, str] = {}
    problems = []
    for key in config:
        line = document.lines.get(("config", key))
        full = _full_key(key, project)
        if ("config", key) in document.text_keys or full is None:
            problems.append(
                Problem(
                    line,
                    f"{key}: not a config key: Pulumi reads keys as `<namespace>:<key>` (or "
                    f"`<key>`, in the project's namespace, `{project}:`) and refuses this one; "
                    f"e.g. `{NAMESPACE}:labels`",
                )
            )
        elif full in keys:
            first = keys[full]
            problems.append(
                Problem(
                    line,
                    f"{key}: the same key as `{first}` on line "
                    f"{document.lines.get(('config', first))} ({_why_one_key(first, key, project)}"
                    "), so Pulumi would keep one of the two at random: keep one",
                )
            )
        else:
            keys[full] = key
    return keys, problems


def _why_one_key(first: str, again: str, project: str) -> str:
    if ":config:" in first + again:
        return "`<namespace>:config:<key>` is the old spelling of `<namespace>:<key>`"
    return f"a key without a namespace is in the project's namespace, `{project}:`"


def _full_key(key: str, project: str) -> str | None:
    """Pulumi's ParseKey, after it puts a key without a namespace into the project's."""
    qualified = key if ":" in key else f"{project}:{key}"
    parts = qualified.split(":")
    if len(parts) == 2:
        return qualified
    if len(parts) == 3 and parts[1] == "config":
        return f"{parts[0]}:{parts[2]}"
    return None


def _value_problems(
    keys: dict[str, str], config: dict[str, Any], document: Document
) -> list[Problem]:
    """Values Pulumi cannot hand to a program: NaN and infinity (Go's JSON refuses them)."""
    problems = []
    for key in keys.values():
        for path in _non_finite(config[key], ("config", key)):
            written = document.written.get(path)
            problems.append(
                Problem(
                    written.line if written else document.lines.get(path),
                    f"{display_path(path)}: `{written.text if written else '.nan'}` is read "
                    "as a floating-point infinity or NaN, which Pulumi cannot pass to a "
                    'program (it stops: "json: unsupported value"); quote it if you mean '
                    "the text",
                )
            )
    return problems


def _non_finite(value: Any, path: KeyPath) -> list[KeyPath]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*path, i))]
    return [] if is_finite(value) else [path]


def _is_ciphertext(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _has_ciphertext(value: Any) -> bool:
    if _is_ciphertext(value):
        return True
    if isinstance(value, dict):
        return any(_has_ciphertext(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ciphertext(v) for v in value)
    return False


def _program_value(value: Any) -> Any:
    """What the program's `json.loads` makes of Go's JSON of `value`."""
    if _is_ciphertext(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _program_value(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_program_value(v) for v in value]
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, float):
        return json.loads(go_json_float(value))  # 1000.0 arrives as 1000
    return value


def program_text(value: Any) -> str:
    """The text a top-level config value reaches the program as."""
    if value is None:
        return ""  # Pulumi warns, and hands over empty text
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_json_float(value)
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, int) or _is_ciphertext(value):
        return str(_program_value(value))
    return json.dumps(_program_value(value), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ReadAs:
    """How a value was written and read (`0o17` is 15), for a problem about its key."""

    note: str
    shown: tuple[str, ...]
    """The forms a problem shows the value read in (`15`, `'2027-01-31 00:00:00 +0000
    UTC'`): the note is added only to a problem that shows the value already, so that it
    never shows what a message kept back."""


def _written(keys: dict[str, str], document: Document) -> dict[str, ReadAs]:
    """How values that are not the text written were written and read, by config key:
    only settings (`pushpools:pools`, `labels`, `prefect`), never a credential's key."""
    settings = {f"{NAMESPACE}:{name}" for name in StackConfig.model_fields}
    full_of = {key: full for full, key in keys.items() if full in settings}
    notes = {}
    for path, written in document.written.items():
        if len(path) < 2 or path[0] != "config" or path[1] not in full_of:
            continue
        top_level = len(path) == 2
        shown = program_text(written.value) if top_level else _json(written.value)
        if written.text == shown and written.value is not None:
            continue  # `14`, `true`: read as written
        name = str(full_of[path[1]]) + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[2:]
        )
        value = _as_the_program_decodes(shown) if top_level else _program_value(written.value)
        forms = (repr(value), json.dumps(value), str(value))
        notes[name] = ReadAs(_how_read(written, top_level=top_level), forms)
    return notes


def _as_the_program_decodes(text: str) -> Any:
    # What the stack program makes of a top-level value's text (it tries JSON first).
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _json(value: Any) -> str:
    return json.dumps(_program_value(value))


def _how_read(written: Written, *, top_level: bool) -> str:
    value = written.value
    if value is None:
        what = f"`{written.text}` is no value" if written.text else "left without a value"
        handed = "empty text" if top_level else "null"
        return (
            f"line {written.line}: {what}, which Pulumi hands over as {handed}; give a value, "
            "or delete the key"
        )
    if isinstance(value, bool):
        read_as = f"the boolean {'true' if value else 'false'}"
    elif isinstance(value, GoTime):
        read_as = f"a timestamp, handed over as {value.text!r}"
    elif isinstance(value, float):
        read_as = f"the number {go_json_float(value)}"
    else:
        read_as = f"the number {value}"
    return (
        f"line {written.line}: written `{written.text}`, which Pulumi reads as {read_as}; "
        f"to keep it as written, quote it: '{written.text}'"
    )


def _namespace_problems(keys: dict[str, str], document: Document) -> list[str]:
    problems = []
    for full, key in keys.items():
        namespace = full.partition(":")[0]
        if is_misspelt_namespace(namespace):
            line = document.lines.get(("config", key))
            problems.append(misspelt_namespace_problem(full, f"line {line}: "))
    return problems
