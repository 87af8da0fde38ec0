"""A plan made with `pushpools plan --json`, read back from a file (`--diff OLD NEW`).

Anything else given as a plan (a folder, a gzipped file, another tool's JSON, a plan
edited by hand into a loop) is refused with what is wrong with it, before the diff reads
a field: the diff and the diagram follow parents and dependencies, and would otherwise
fail half-way, or never end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_LISTED = 5


class PlanFileError(Exception):
    """The file is not a plan `pushpools plan --json` wrote; the message says why."""


def read_plan(path: Path, option: str = "--diff") -> dict[str, Any]:
    where = f"{option} {path}"
    if path.is_dir():
        raise PlanFileError(f"{where}: is a folder; give a file written by `pushpools plan --json`")
    if path.exists() and not path.is_file():
        raise PlanFileError(
            f"{where}: not a regular file; give a file written by `pushpools plan --json`"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlanFileError(f"{where}: no such file") from None
    except OSError as error:
        raise PlanFileError(f"{where}: cannot be read: {error.strerror or error}") from None
    if data.startswith(_GZIP_MAGIC):
        raise PlanFileError(
            f"{where}: is gzip-compressed; decompress it first (`gunzip -k {path.name}`)"
        )
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PlanFileError(
            f"{where}: not UTF-8 text (byte {error.start}); a plan is the JSON that "
            "`pushpools plan --json` prints"
        ) from None
    except json.JSONDecodeError as error:
        raise PlanFileError(
            f"{where}: not JSON (line {error.lineno}, column {error.colno}: {error.msg}); a "
            "plan is the JSON that `pushpools plan --json` prints"
        ) from None
    except RecursionError:
        raise PlanFileError(f"{where}: JSON nested too deeply to be a plan") from None
    problems = shape_problems(document)
    if problems:
        shown = problems[:_MAX_LISTED]
        more = f"; and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise PlanFileError(
            f"{where}: not a plan written by `pushpools plan --json`: " + "; ".join(shown) + more
        )
    return document


def shape_problems(document: Any) -> list[str]:
    """What in `document` is not shaped like a plan."""
    if not isinstance(document, dict):
        return [f"the file holds {type(document).__name__}, not an object with `resources`"]
    problems = []
    if not isinstance(document.get("resources"), list):
        return ["no `resources` list"]
    if not isinstance(document.get("stack", ""), str):
        problems.append("`stack` is not text")
    if not isinstance(document.get("outputs", {}), dict):
        problems.append("`outputs` is not an object")
    urns: dict[str, dict[str, Any]] = {}
    for index, resource in enumerate(document["resources"]):
        problems += [f"resources[{index}]{p}" for p in _resource_problems(resource)]
        if not problems and resource["urn"] in urns:
            problems.append(f"resources[{index}].urn: {resource['urn']!r} is listed twice")
        if not problems:
            urns[resource["urn"]] = resource
    if problems:
        return problems
    return _loops(urns)


def _resource_problems(resource: Any) -> list[str]:
    if not isinstance(resource, dict):
        return [" is not an object"]
    problems = [
        f".{key}: missing or not text"
        for key in ("urn", "type", "name")
        if not isinstance(resource.get(key), str)
    ]
    if not isinstance(resource.get("parent"), str | None):
        problems.append(".parent: not text or null")
    if not isinstance(resource.get("inputs", {}), dict):
        problems.append(".inputs: not an object")
    dependencies = resource.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        problems.append(".dependencies: not a list of URNs")
    return problems


def _loops(resources: dict[str, dict[str, Any]]) -> list[str]:
    """A resource that is its own ancestor, or waits for itself: no plan has one."""
    for urn in resources:
        seen = {urn}
        parent = resources[urn].get("parent")
        while parent in resources:
            if parent in seen:
                return [f"the parents of {urn!r} loop"]
            seen.add(parent)
            parent = resources[parent].get("parent")
    # Dependencies: depth-first, without recursion (a long chain is no reason to fail).
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in resources:
        if state.get(start):
            continue
        stack = [(start, iter(resources[start].get("dependencies", [])))]
        state[start] = 1
        while stack:
            urn, pending = stack[-1]
            for dependency in pending:
                if dependency not in resources:
                    continue
                if state.get(dependency) == 1:
                    return [f"{dependency!r} waits for itself through its dependencies"]
                if not state.get(dependency):
                    state[dependency] = 1
                    stack.append((dependency, iter(resources[dependency].get("dependencies", []))))
                    break
            else:
                state[urn] = 2
                stack.pop()
    return []
