"""Choices about an object the whole stack shares, which every pool must make alike.

Some objects exist once per cloud account, whichever pools need them: the ECS
service-linked role, Prefect Cloud's IAM OIDC identity provider. The stack program declares
such an object once, or looks it up once, so whether this stack creates it is one decision
for the stack, even though each pool that needs it states it. A section offers such a
choice with a `shared_choices()` method: `(what, config key suffix, value)` per object.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

from pushpools.components.config.pool_types import PoolKind


class _Pool(Protocol):
    """What is read of a pool (a `PoolConfig`)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> PoolKind: ...


def disagreement_problems(pools: Sequence[tuple[int, _Pool]]) -> list[str]:
    """A problem for each pool that makes a shared choice unlike the first pool that makes it."""
    first: dict[str, tuple[_Pool, str, object]] = {}
    problems = []
    for index, pool in pools:
        section = getattr(pool, pool.kind.cloud.value, None)
        shared_choices = getattr(section, "shared_choices", None)
        for what, key, value in shared_choices() if shared_choices is not None else []:
            if what not in first:
                first[what] = (pool, key, value)
                continue
            other, other_key, other_value = first[what]
            if value != other_value:
                problems.append(
                    f"pushpools:pools[{index}].{key}: {json.dumps(value)} disagrees with pool "
                    f"{other.name!r} ({other_key}: {json.dumps(other_value)}); {what} is one "
                    "per account, which this stack either creates or looks up, so every pool "
                    f"of the stack says the same; allowed: {json.dumps(other_value)}, or "
                    f"change pool {other.name!r} too"
                )
    return problems
