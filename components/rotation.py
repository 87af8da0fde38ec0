"""A rotation that follows time: a period that starts when it is created and ends a set
number of days later, when the next `pulumi up` (or preview) starts a new one.

What must change periodically (a client secret) takes its end date from the current
period: a new period replaces it. Nothing is stored but the period's dates, and the
calendar is read only where Pulumi asks the provider about the resource (`check`), so a
program and its plan need no date written in the stack config.

The period is stamped in `check`, not in `create`: the engine calls `check` in previews
too and, for a resource it is about to create, shows the checked inputs as its outputs, so
a preview already shows the dates `pulumi up` will use.

The provider is a Pulumi dynamic provider, pickled by reference into the state of every
rotation: its module path and class name (`pushpools.components.rotation.RotationProvider`)
never change.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult
from pulumi.dynamic import Resource as DynamicResource

from pushpools.components import clock

# What the program asks for, and what the provider stamps from the calendar.
_SETTINGS = ("rotate_after_days", "valid_days")
_STAMP = ("started_on", "rotate_on", "expires_at")


def period(today: date, rotate_after_days: int, valid_days: int) -> dict[str, str]:
    """The dates of a period that starts today."""
    return {
        "started_on": today.isoformat(),
        "rotate_on": (today + timedelta(days=rotate_after_days)).isoformat(),
        # RFC 3339, as expiry dates are taken (Entra ID's endDateTime).
        "expires_at": f"{(today + timedelta(days=valid_days)).isoformat()}T00:00:00Z",
    }


def stamped(olds: dict[str, Any], news: dict[str, Any], today: date) -> dict[str, Any]:
    """`news` with its period: the current one while it runs, else one starting today."""
    same_settings = all(olds.get(k) == news.get(k) for k in _SETTINGS)
    running = "rotate_on" in olds and today < date.fromisoformat(str(olds["rotate_on"]))
    if same_settings and running and all(k in olds for k in _STAMP):
        return {**news, **{k: olds[k] for k in _STAMP}}
    return {
        **news,
        **period(today, int(news["rotate_after_days"]), int(news["valid_days"])),
    }


class RotationProvider(ResourceProvider):
    """Keeps a period while it runs; a new period (on or after `rotate_on`, or with new
    settings) replaces the rotation, and with it whatever takes its dates."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(inputs=stamped(_olds or {}, news, clock.today_utc()), failures=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["started_on"]), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        new_period = any(olds.get(k) != news.get(k) for k in _STAMP)
        changed = any(olds.get(k) != news.get(k) for k in (*_SETTINGS, *_STAMP))
        return DiffResult(
            changes=changed,
            replaces=["started_on"] if new_period else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Rotation(DynamicResource, module="pushpools", name="Rotation"):
    """A period of `rotate_after_days` from its start; `expires_at` is `valid_days` after
    the start (longer than the period, so that what it dates outlives a late rotation)."""

    started_on: pulumi.Output[str]
    rotate_on: pulumi.Output[str]
    expires_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        rotate_after_days: int,
        valid_days: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            RotationProvider(),
            resource_name,
            {
                "rotate_after_days": rotate_after_days,
                "valid_days": valid_days,
                # Stamped by the provider's check (or, offline, by the engine's mock).
                "started_on": None,
                "rotate_on": None,
                "expires_at": None,
            },
            opts,
        )
