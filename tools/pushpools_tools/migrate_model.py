"""What `pushpools migrate` decides for each resource of a pool the imperative helper made.

The cloud modules (migrate_gcp, migrate_aws, migrate_azure) say, per declared resource,
whether the helper's object is imported into state, or created anew, or is a key that
cannot be read back, or must be replaced; and what the helper made that pushpools leaves
behind. This module holds the vocabulary they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pushpools.components.config import PoolConfig
from pushpools_tools.engine import Registration, reveal


class Action(StrEnum):
    IMPORT = "import"
    """The helper made it: `pulumi import` puts it into state as it is; `pulumi up` then
    updates it in place to the program (tags, descriptions, narrower grants)."""
    CREATE = "create"
    """The helper made nothing like it: the first `pulumi up` creates it."""
    NEW_KEY = "new key"
    """A key or secret: it cannot be read back, so `pulumi up` creates a new one and the
    credentials block (adopted in place) gets it; the helper's old one is deleted after."""
    REPLACE = "replace"
    """The helper's object would conflict with the program's: it is removed right before
    the first `pulumi up`, which creates the program's."""


@dataclass(frozen=True)
class Lookup:
    """A placeholder in an import ID and the command that prints its value."""

    placeholder: str
    command: str


@dataclass(frozen=True)
class Decision:
    action: Action
    import_id: str | None = None
    """The provider's documented import ID (IMPORT only), possibly with placeholders."""
    why: str = ""
    lookups: tuple[Lookup, ...] = ()


@dataclass(frozen=True)
class Step:
    """A command for the user, with what it does and when to run it."""

    what: str
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Declared:
    """A resource the stack program declares for a pool, as the offline engine saw it."""

    registration: Registration
    pool: PoolConfig
    urn: str
    """Its URN as the real engine builds it (the root stack is not part of it)."""

    @property
    def type(self) -> str:
        return self.registration.type

    @property
    def name(self) -> str:
        return self.registration.name

    @property
    def role(self) -> str:
        """The logical name without the pool's prefix: `prefect-sa`, `images`, ..."""
        return self.name.removeprefix(f"{self.pool.name}-")

    @property
    def inputs(self) -> dict[str, Any]:
        return reveal(self.registration.inputs)


@dataclass
class CloudPlan:
    """What a cloud module adds to a pool's migration besides per-resource decisions."""

    before_import: list[Step] = field(default_factory=list)
    before_up: list[Step] = field(default_factory=list)
    after_up: list[Step] = field(default_factory=list)
    """Clean-up, once the pool is verified working: old keys, what pushpools does not want."""
    notes: list[str] = field(default_factory=list)


def placeholders_in(text: str, lookups: tuple[Lookup, ...]) -> list[str]:
    return [lookup.placeholder for lookup in lookups if lookup.placeholder in text]
