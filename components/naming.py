"""Physical names derived from a pool's name, fitted to a cloud's rules.

Account-, project-, subscription- and tenant-wide names must differ between the stacks and
pools that share an account. Pool names are unique within a Prefect workspace, so every
default name is derived from the pool's name. Where a derived name would not fit a cloud's
length limit, it is cut and ends in a short hash of the whole name: stable across runs,
and different for two names that share their beginning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pushpools.components.config.base import ConfigModel


class Naming(StrEnum):
    """How a pool's default physical names are made (the `naming` key of a pool)."""

    DERIVED = "derived"
    """From the pool's name: pools and stacks side by side never collide."""
    HELPER = "helper"
    """Exactly the fixed names Prefect's `--provision-infra` helper uses: one such pool
    per account, project or tenant."""


HASH_LENGTH = 6


@dataclass(frozen=True)
class NameRule:
    """What a cloud accepts for one kind of name."""

    max_length: int
    dropped: str = ""
    """A regex character class of characters the cloud refuses (removed from the name)."""
    first_is_letter: bool = False
    """The name must start with a letter (a name that does not gets a `p` in front)."""
    refused_prefix: str | None = None
    """A prefix the cloud reserves (a name that has it gets a `p-` in front)."""


def stable_hash(text: str, length: int = HASH_LENGTH) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit(name: str, rule: NameRule) -> str:
    """`name` as the cloud accepts it: refused characters dropped, a letter first where
    required, and cut to the length limit with a stable hash of the whole name."""
    fitted = re.sub(f"[{rule.dropped}]", "", name) if rule.dropped else name
    if rule.first_is_letter and not fitted[:1].isalpha():
        fitted = "p" + fitted
    if rule.refused_prefix and fitted.lower().startswith(rule.refused_prefix):
        fitted = "p-" + fitted
    if len(fitted) <= rule.max_length:
        return fitted
    # The separator is only kept where the cloud accepts it.
    separator = "" if rule.dropped and re.match(f"[{rule.dropped}]", "-") else "-"
    keep = rule.max_length - HASH_LENGTH - len(separator)
    head = fitted[:keep].rstrip("-_.")
    return f"{head}{separator}{stable_hash(name)}"


def derive(template: str, pool_name: str, rule: NameRule) -> str:
    """`template` (e.g. `{pool}-jobs`) for this pool, fitted to `rule`."""
    return fit(template.format(pool=pool_name), rule)


_Names = TypeVar("_Names", bound=ConfigModel)


def fill_names(
    names: _Names,
    pool_name: str,
    naming: Naming,
    helper: Mapping[str, str],
    derived: Mapping[str, tuple[str, NameRule]],
) -> _Names:
    """A copy of a `names` section with every unset name filled in: explicit names win in
    both modes. The filled names do not count as set, so that a pool written back as
    component args (or as config) carries only what its user set, and the naming mode."""
    filled: dict[str, str] = {}
    for field, template_rule in derived.items():
        if getattr(names, field) is not None:
            continue
        if naming is Naming.HELPER:
            filled[field] = helper[field]
        else:
            filled[field] = derive(template_rule[0], pool_name, template_rule[1])
    return type(names).model_construct(
        _fields_set=set(names.model_fields_set), **{**names.model_dump(), **filled}
    )
