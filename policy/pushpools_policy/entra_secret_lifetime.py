"""Mandatory: every Entra ID client secret ends, within two years.

A client secret is a password for the identity Prefect signs in as. Without an end date
(or with one decades away) a leaked copy works forever. pushpools sets the date from
`client_secret_expires_on` and refuses dates more than 730 days ahead; this rule holds
any stack to the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

MAX_DAYS = 730  # two years, the longest lifetime the Entra admin center offers

_SECRET_TYPES = (
    "azuread:index/applicationPassword:ApplicationPassword",
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
)
_FIX = (
    "set endDate to a date at most {days} days ahead (in pushpools: "
    "`client_secret_expires_on`), and rotate before it"
)


def check(
    resource_type: str,
    props: Mapping[str, Any],
    max_days: int = MAX_DAYS,
    today: date | None = None,
) -> list[str]:
    if resource_type not in _SECRET_TYPES:
        return []
    name = props.get("displayName") or "a client secret"
    fix = _FIX.format(days=max_days)
    end = props.get("endDate")
    if not end:
        return [f"{name!r} has no end date, so it never expires; {fix}"]
    try:
        end_date = datetime.fromisoformat(str(end).replace("Z", "+00:00")).date()
    except ValueError:
        return [f"{name!r} has an end date {end!r} that is not an RFC 3339 date; {fix}"]
    today = today or datetime.now(UTC).date()
    latest = today + timedelta(days=max_days)
    if end_date > latest:
        return [
            f"{name!r} ends on {end_date.isoformat()}, {(end_date - today).days} days from "
            f"today; the longest allowed is {max_days} days (until {latest.isoformat()}); {fix}"
        ]
    return []
