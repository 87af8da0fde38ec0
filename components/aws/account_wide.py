"""Objects of the AWS account that one program declares, or looks up, once for all its pools.

The ECS service-linked role and Prefect Cloud's IAM OIDC provider exist once per account.
The pools that need one each say whether this stack creates it (the stack config makes them
agree: config/shared_choices.py); the first pool's component settles it for the program
run, at the stack's level (not under a pool, whose removal would then remove it), and the
others reuse what it settled. A program that builds components itself and lets two of them
disagree is stopped before the second declares anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pulumi

from pushpools.components.pool_args import ComponentArgsError

T = TypeVar("T")


@dataclass(frozen=True)
class _Settled(Generic[T]):
    monitor: object  # one per program run
    choice: bool
    pool: str
    value: T


class AccountWide(Generic[T]):
    """One object of the account, and whether the program creates it or looks it up."""

    def __init__(self, what: str, setting: str) -> None:
        self._what = what
        self._setting = setting
        self._settled: _Settled[T] | None = None

    def settle(self, *, create: bool, pool: str, component: str, make: Callable[[], T]) -> T:
        """What `make` gives, made once per program run; `create` must agree with the
        first pool's."""
        monitor = pulumi.runtime.settings.get_monitor()
        settled = self._settled
        if settled is not None and settled.monitor is monitor:
            if settled.choice != create:
                raise ComponentArgsError(
                    component,
                    [
                        f"{self._setting}: {str(create).lower()} disagrees with pool "
                        f"{settled.pool!r} of this program ({str(settled.choice).lower()}); "
                        f"{self._what} is one per account, which the program either "
                        "creates or looks up; give every pool the same value"
                    ],
                )
            return settled.value
        value = make()  # a new run: the previous run's object is gone with it
        self._settled = _Settled(monitor, create, pool, value)
        return value


def is_not_found(error: Exception) -> bool:
    """Whether a failed lookup invoke means the object does not exist.

    The AWS provider's data sources answer a missing object with "couldn't find resource"
    (its NotFoundError) or IAM's own NoSuchEntity."""
    text = str(error)
    return "couldn't find resource" in text or "NoSuchEntity" in text
