"""A YAML document read into plain values the way Go's yaml.v3 reads it (`Unmarshal` into
`any`), which is Pulumi's first step in reading a stack file.

libyaml (PyYAML's C parser; yaml.v3 is a port of it) turns the text into events. The
nodes and values are built here, because PyYAML's own loader differs from yaml.v3 where
it matters:

- scalars resolve by YAML 1.2-ish rules (yaml_scalars.py), not YAML 1.1's;
- a key given twice in one mapping is an error at any depth (yaml.v3 compares the keys as
  written: `a` and `"a"` are the same key); keys that are read as one value (`1` and `01`,
  `true` and `True`) are refused too: Go keeps only the last, silently;
- `<<` merges as yaml.v3 merges (keys of the mapping win, then earlier merged maps);
- an alias that contains itself, or aliases that expand far beyond the text (yaml.v3's
  "excessive aliasing" rule), end the reading: never an endless or memory-eating walk;
- nesting deeper than MAX_DEPTH ends the reading: libyaml slows quadratically on deep
  flow nesting, and no stack setting nests that deep;
- only the first document is read by yaml.v3; a second one is refused here rather than
  dropped in silence.

Every problem carries its line. Problems after which nothing sensible can be read end the
reading (ReadError); the others are collected, so that a file shows all of them at once.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from pushpools_tools.yaml_scalars import MERGE_KEY, GoTime, ScalarError, go_format_g, resolve

MAX_DEPTH = 100
"""Deeper nesting is refused: pushpools' deepest setting is 6 levels down."""

_RESOLVABLE_TAGS = ("!!bool", "!!int", "!!float", "!!null", "!!timestamp")
_LONG_TAG_PREFIX = "tag:yaml.org,2002:"
# yaml.v3's alias rule (decode.go): more than 100 alias-driven decodes, more than 1000 in
# all, and a share of alias-driven ones above 99% (small files) down to 10% (4M decodes).
_ALIAS_RATIO_LOW, _ALIAS_RATIO_HIGH = 400_000, 4_000_000


@dataclass(frozen=True)
class Problem:
    line: int | None
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}" if self.line else self.text


class ReadError(Exception):
    """Reading cannot go on; `problems` holds what was found up to here, this one last."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(eq=False, slots=True)
class Scalar:
    text: str
    tag: str | None
    plain: bool
    line: int
    anchor: str | None = None


@dataclass(eq=False, slots=True)
class Sequence:
    tag: str | None
    line: int
    anchor: str | None = None
    items: list[Node] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Mapping:
    tag: str | None
    line: int
    anchor: str | None = None
    items: list[Node] = field(default_factory=list)
    """Keys and values, alternating."""

    def pairs(self) -> Iterator[tuple[Node, Node]]:
        return zip(self.items[::2], self.items[1::2], strict=True)


@dataclass(eq=False, slots=True)
class Alias:
    name: str
    target: Node
    line: int


Node = Scalar | Sequence | Mapping | Alias
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Written:
    """A plain scalar that was read as something other than the text written."""

    line: int
    text: str
    value: Any


@dataclass
class Document:
    """The first document's value, and where its parts came from."""

    value: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    """The line of each mapping entry and sequence item, by path."""
    written: dict[KeyPath, Written] = field(default_factory=dict)
    """Values that are not the text written (`0o17` -> 15), by path."""
    text_keys: set[KeyPath] = field(default_factory=set)
    """Paths whose last key was not text as written (`1:`, `true:`): Go prints it."""
    anchored: set[KeyPath] = field(default_factory=set)
    """Paths of mapping values that carry an anchor (`base: &base {...}`)."""
    problems: list[Problem] = field(default_factory=list)


def read_yaml(text: str) -> Document:
    """The document in `text` as yaml.v3 reads it; raises ReadError when it cannot be read."""
    root = _compose(text)
    decoder = _Decoder()
    try:
        value = None if root is None else decoder.value(root, (), 0)
    except ReadError as error:
        raise ReadError(_unique(decoder.problems + error.problems)) from None
    return Document(
        value,
        decoder.lines,
        decoder.written,
        decoder.nontext_keys,
        decoder.anchored,
        _unique(decoder.problems),
    )


def _unique(problems: list[Problem]) -> list[Problem]:
    # An anchored mapping is checked each time an alias expands it.
    return list(dict.fromkeys(problems))


def _compose(text: str) -> Node | None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    anchors: dict[str, Node] = {}
    open_nodes: list[Sequence | Mapping] = []
    root: Node | None = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise ReadError([Problem(line, _SECOND_DOCUMENT)])
                continue
            if isinstance(event, yaml.AliasEvent):
                target = anchors.get(event.anchor)
                if target is None:
                    raise ReadError([Problem(line, f"the alias *{event.anchor} names no anchor")])
                node: Node = Alias(event.anchor, target, line)
            elif isinstance(event, yaml.ScalarEvent):
                node = Scalar(event.value, _tag(event.tag), not event.style, line)
            elif isinstance(event, yaml.SequenceStartEvent):
                node = Sequence(_tag(event.tag), line)
            elif isinstance(event, yaml.MappingStartEvent):
                node = Mapping(_tag(event.tag), line)
            elif isinstance(event, yaml.CollectionEndEvent):
                open_nodes.pop()
                continue
            else:
                continue
            # Registered before its children are read: a child may alias it (and is caught
            # when decoded, as yaml.v3 catches it).
            if getattr(event, "anchor", None) and not isinstance(node, Alias):
                node.anchor = event.anchor
                anchors[event.anchor] = node
            if open_nodes:
                open_nodes[-1].items.append(node)
            else:
                root = node
            if isinstance(node, Sequence | Mapping):
                open_nodes.append(node)
                if len(open_nodes) > MAX_DEPTH:
                    raise ReadError([Problem(line, _too_deep())])
    except yaml.YAMLError as error:
        raise ReadError([_syntax_problem(error, text)]) from None
    return root


_SECOND_DOCUMENT = (
    "a second YAML document starts here (after `---`); Pulumi reads only the first "
    "document of a stack file and ignores the rest without a word: delete this `---` "
    "line, or move these settings into the first document"
)


def _too_deep() -> str:
    return (
        f"nested more than {MAX_DEPTH} levels deep; no stack setting nests deeper than a "
        "few levels (an unclosed `[` or `{` does this): fix the nesting"
    )


def _tag(tag: str | None) -> str | None:
    if tag is None or tag == "!":
        return None  # the non-specific tag: read as if untagged
    if tag.startswith(_LONG_TAG_PREFIX):
        return "!!" + tag.removeprefix(_LONG_TAG_PREFIX)
    return tag


def _syntax_problem(error: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    position = getattr(error, "position", None)  # a ReaderError: a character YAML forbids
    if mark is not None:
        line: int | None = mark.line + 1
        where = f"column {mark.column + 1}: "
    elif isinstance(position, int):
        line, where = text.count("\n", 0, position) + 1, ""
    else:
        line, where = None, ""
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if problem is None:  # a ReaderError says only what the character is
        character = getattr(error, "character", None)
        code = character if isinstance(character, int) else ord(str(character or "\0")[:1])
        return Problem(
            line,
            f"the control character U+{code:04X} is not allowed in YAML; delete it",
        )
    reason = f"{problem} ({context})" if context else str(problem)
    return Problem(line, f"{where}not valid YAML: {reason}")


class _Decoder:
    """yaml.v3's decoder, into Python values, counting as it counts."""

    def __init__(self) -> None:
        self.decode_count = 0
        self.alias_count = 0
        self.alias_depth = 0
        self.expanding: set[int] = set()
        self.lines: dict[KeyPath, int] = {}
        self.written: dict[KeyPath, Written] = {}
        self.nontext_keys: set[KeyPath] = set()
        self.anchored: set[KeyPath] = set()
        self.problems: list[Problem] = []

    def _count(self, node: Node) -> None:
        self.decode_count += 1
        if self.alias_depth:
            self.alias_count += 1
        if (
            self.alias_count > 100
            and self.decode_count > 1000
            and self.alias_count / self.decode_count > _allowed_alias_ratio(self.decode_count)
        ):
            raise ReadError([Problem(node.line, _EXCESSIVE_ALIASING)])

    def value(
        self,
        node: Node,
        path: KeyPath,
        depth: int,
        into: dict[str, Any] | None = None,
        merged: set[str] | None = None,
    ) -> Any:
        self._count(node)
        if isinstance(node, Alias):
            return self._alias(node, path, depth, into, merged)
        if depth > MAX_DEPTH:
            raise ReadError([Problem(node.line, _too_deep())])
        if isinstance(node, Scalar):
            return self._scalar(node, path)
        if node.tag not in (None, "!!seq" if isinstance(node, Sequence) else "!!map"):
            self.problems.append(
                Problem(node.line, _where(path) + _unknown_collection_tag(node.tag))
            )
        if isinstance(node, Sequence):
            return self._sequence(node, path, depth)
        return self._mapping(node, path, depth, into, merged)

    def _alias(
        self,
        node: Alias,
        path: KeyPath,
        depth: int,
        into: dict[str, Any] | None,
        merged: set[str] | None,
    ) -> Any:
        if id(node) in self.expanding:
            raise ReadError([Problem(node.line, _recursive_alias(node.name))])
        self.expanding.add(id(node))
        self.alias_depth += 1
        try:
            return self.value(node.target, path, depth, into, merged)
        finally:
            self.alias_depth -= 1
            self.expanding.discard(id(node))

    def _sequence(self, node: Sequence, path: KeyPath, depth: int) -> list[Any]:
        items = []
        for index, item in enumerate(node.items):
            self.lines[(*path, index)] = item.line
            items.append(self.value(item, (*path, index), depth + 1))
        return items

    def _mapping(
        self,
        node: Mapping,
        path: KeyPath,
        depth: int,
        into: dict[str, Any] | None,
        merged: set[str] | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {} if into is None else into
        repeated = self._repeated_keys(node, path)
        merge_from: Node | None = None
        keys_here: dict[str, Node] = {}
        for key_node, value_node in node.pairs():
            if _is_merge_key(key_node):
                merge_from = value_node
                continue
            key = self.key(key_node, path)
            if key_node not in repeated and key in keys_here:
                self._same_key(keys_here[key], key_node, (*path, key))
            keys_here.setdefault(key, key_node)
            if merged is not None:
                if key in merged:
                    continue  # a key of the mapping that merges this one wins
                merged.add(key)
            self.lines[(*path, key)] = key_node.line
            if not isinstance(value_node, Alias) and value_node.anchor:
                self.anchored.add((*path, key))
            out[key] = self.value(value_node, (*path, key), depth + 1)
        if merge_from is not None:
            self._merge(node, merge_from, out, path, depth, merged)
        return out

    def _repeated_keys(self, node: Mapping, path: KeyPath) -> set[Node]:
        """Keys given twice as written: what yaml.v3 itself refuses."""
        first: dict[tuple[str, str], Node] = {}
        repeated: set[Node] = set()
        for key_node, _ in node.pairs():
            identity = _identity(key_node)
            if identity is None:
                continue
            if identity in first:
                repeated.add(key_node)
                shown = _written_key(key_node)
                self.problems.append(
                    Problem(
                        key_node.line,
                        f"{display_path((*path, shown))}: given twice in one map (first on "
                        f"line {first[identity].line}); Pulumi refuses a stack file that "
                        "repeats a key: keep one of them",
                    )
                )
            else:
                first[identity] = key_node
        return repeated

    def _same_key(self, first: Node, again: Node, path: KeyPath) -> None:
        self.problems.append(
            Problem(
                again.line,
                f"{display_path(path)}: `{_written_key(again)}` and `{_written_key(first)}` "
                f"(line {first.line}) are read as one key, and only one value would be "
                "kept: keep one of them (quote a key to keep it as written)",
            )
        )

    def _merge(
        self,
        parent: Mapping,
        source: Node,
        out: dict[str, Any],
        path: KeyPath,
        depth: int,
        merged: set[str] | None,
    ) -> None:
        if merged is None:
            # The mapping's own keys win over merged ones (yaml.v3 reads them again).
            merged = {self.key(k, path) for k, _ in parent.pairs() if not _is_merge_key(k)}
        sources = source.items if isinstance(source, Sequence) else [source]
        for item in sources:
            target = item.target if isinstance(item, Alias) else item
            if not isinstance(target, Mapping):
                raise ReadError([Problem(item.line, _where(path) + _MERGE_NEEDS_MAPS)])
            self.value(item, path, depth, into=out, merged=merged)

    def key(self, node: Node, path: KeyPath) -> str:
        """A mapping key, as the text Pulumi ends up with (`1`, `true`: Go prints them)."""
        self._count(node)
        target = node
        while isinstance(target, Alias):
            target = target.target
        if not isinstance(target, Scalar):
            raise ReadError([Problem(node.line, _where(path) + _COLLECTION_KEY)])
        value = self._scalar(target, None)
        if isinstance(value, str):
            if value == MERGE_KEY:
                self.problems.append(Problem(node.line, _where(path) + _QUOTED_MERGE_KEY))
            return value
        text = _go_key_text(value)
        self.nontext_keys.add((*path, text))
        return text

    def _scalar(self, node: Scalar, path: KeyPath | None) -> Any:
        if node.tag is None:
            if not node.plain:
                return node.text
            value = resolve(node.text)
        elif node.tag == "!!str":
            return node.text
        elif node.tag == "!!binary":
            return self._binary(node, path)
        elif node.tag in _RESOLVABLE_TAGS:
            try:
                value = resolve(node.text, node.tag)
            except ScalarError as error:
                where = _where(path)
                self.problems.append(
                    Problem(node.line, f"{where}{error}; remove the tag {node.tag}")
                )
                return node.text
        else:
            self.problems.append(Problem(node.line, _where(path) + _unknown_tag(node.tag)))
            return node.text
        if path is not None and not isinstance(value, str):
            self.written[path] = Written(node.line, node.text, value)
        return value

    def _binary(self, node: Scalar, path: KeyPath | None) -> str:
        try:
            return base64.b64decode("".join(node.text.split()), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            self.problems.append(
                Problem(
                    node.line,
                    f"{_where(path)}the !!binary value is not base64 of UTF-8 text; write the "
                    "text itself, without the tag",
                )
            )
            return node.text


def _allowed_alias_ratio(decodes: int) -> float:
    if decodes <= _ALIAS_RATIO_LOW:
        return 0.99
    if decodes >= _ALIAS_RATIO_HIGH:
        return 0.10
    share = (decodes - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)
    return 0.99 - 0.89 * share


def _is_merge_key(node: Node) -> bool:
    return isinstance(node, Scalar) and node.plain and node.text == MERGE_KEY and node.tag is None


def _identity(node: Node) -> tuple[str, str] | None:
    # yaml.v3 compares the kind of node and its text: `a` and `'a'` are one key.
    if isinstance(node, Scalar):
        return ("scalar", node.text)
    if isinstance(node, Alias):
        return ("alias", node.name)
    return None


def _written_key(node: Node) -> str:
    if isinstance(node, Scalar):
        return node.text
    if isinstance(node, Alias):
        return f"*{node.name}"
    return "?"


def _go_key_text(value: Any) -> str:
    """A key that is not text, as Pulumi ends up naming it (Go's `%v` of the value read
    back after the file is written out again)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_format_g(value)
    if isinstance(value, GoTime):
        return value.text
    return str(value)


def display_path(path: KeyPath) -> str:
    """`("config", "pushpools:pools", 0, "name")` -> `pushpools:pools[0].name` (a config
    key as Pulumi names it; the path of anything else starts at the top of the file)."""
    if len(path) > 1 and path[0] == "config":
        path = path[1:]
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _where(path: KeyPath | None) -> str:
    return f"{display_path(path)}: " if path else ""


def is_finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


_EXCESSIVE_ALIASING = (
    "aliases (`*name`) expand this file far beyond what is written; Pulumi refuses it "
    '("document contains excessive aliasing"): write the values out instead of nesting aliases'
)
_MERGE_NEEDS_MAPS = "a merge (`<<:`) takes a map or a list of maps; Pulumi refuses anything else"
_COLLECTION_KEY = "a list or a map as a key; Pulumi refuses it (a key is text): fix the key"
_QUOTED_MERGE_KEY = (
    'a quoted "<<" key; Pulumi writes the file out again and then reads it as a merge '
    "(`<<:`), and refuses it: rename the key"
)


def _recursive_alias(name: str) -> str:
    return (
        f"the alias *{name} is inside the value anchored as &{name}, so that value would "
        f"never end; Pulumi refuses it (\"anchor '{name}' value contains itself\"): write "
        "the value out"
    )


def _unknown_collection_tag(tag: str) -> str:
    return f"the tag {tag} means nothing to Pulumi, which drops it; remove the tag"


def _unknown_tag(tag: str) -> str:
    return (
        f"the tag {tag} means nothing to Pulumi, which drops it and reads the value as "
        "plain text; remove the tag (a secret is set with `pulumi config set --secret`)"
    )
