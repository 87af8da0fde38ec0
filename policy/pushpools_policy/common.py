"""What the rules share: how properties arrive, and how to read what they hold.

CrossGuard hands a Python policy each resource's properties under the provider's wire
names (camelCase: `assumeRolePolicy`, `roleDefinitionId`), exactly as the engine sends
them: `pulumi_policy` deserializes the gRPC struct and renames nothing. `pushpools plan
--json` records inputs under the same names, so a rule reads both alike.

Two differences the rules allow for:
- The offline plan masks every secret as "[secret]"; CrossGuard gives validations the
  plain value (the engine marks secrets on the wire, but `pulumi_policy` drops the mark
  except for remediations). A rule never relies on seeing a secret, or on secrecy.
- During `pulumi preview`, values not known yet raise `UnknownValueError` when read; the
  pack's adapter treats such a resource as not yet judgeable (see pack.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MASKED = "[secret]"  # how the offline plan shows a secret


def json_document(value: Any) -> Mapping[str, Any] | None:
    """A policy document given as JSON text or as an object; None if it cannot be read
    (masked, not JSON): a rule then has nothing to judge."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str) or value == MASKED:
        return None
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, Mapping) else None


def is_list(value: Any) -> bool:
    """A list, as the plan has it or as CrossGuard's read-only proxy wraps it."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """IAM documents allow one value or a list of them in the same place."""
    if value is None:
        return []
    return list(value) if is_list(value) else [value]
