"""Is a string a pip requirement (PEP 508)? The grammar is `packaging`'s; most entries
need only a pattern.

Importing `packaging.requirements` pulls in its specifiers, tags and subprocess modules:
20 ms of a plan (a twentieth of the dev stack's own cost), for entries that are nearly
always a name, some extras and a few comparisons with release numbers. Those are
accepted by a pattern whose every match `packaging` accepts too (tests/test_pip_requirements.py
checks that on a corpus); anything else is judged by `packaging` itself.
"""

from __future__ import annotations

import re

_IDENTIFIER = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"\d+(?:\.\d+)*"
_COMPARISON = rf"(?:(?:==|!=|>=|<=|>|<){_RELEASE}|~={_RELEASE}\.\d+)"
_PLAIN_REQUIREMENT = re.compile(
    rf"{_IDENTIFIER}(?:\[{_IDENTIFIER}(?:,{_IDENTIFIER})*\])?"
    rf"(?:{_COMPARISON}(?:,{_COMPARISON})*)?"
)


def is_pip_requirement(text: str) -> bool:
    """True when pip would accept `text` as one requirement, such as `pandas>=2,<3`."""
    if _PLAIN_REQUIREMENT.fullmatch(text):
        return True
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True
