"""Advisory: no key older than a configured age (default 90 days).

What can be known: a key's inputs hold its generation (`keepers`, `rotateWhenChanged`),
not when that generation was last bumped, so inputs alone cannot date a key. Its outputs
can: after creation the provider records when the key was made (AWS `createDate`, GCP
`validAfter`, Entra `startDate`). So this rule runs on the stack's resources after an
update or preview (CrossGuard's stack validation, which sees each resource's outputs) and
judges every key that already exists; a key still being created has no date yet and
passes. It cannot see keys made outside Pulumi (Prefect's helper's leftovers).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

MAX_AGE_DAYS = 90

# Key resource type -> (output holding its creation time, how to rotate it in pushpools).
KEYS = {
    "aws:iam/accessKey:AccessKey": (
        "createDate",
        "bump `key_generation` in the pool's aws section",
    ),
    "gcp:serviceaccount/key:Key": ("validAfter", "bump `key_generation` in the pool's gcp section"),
    "azuread:index/applicationPassword:ApplicationPassword": (
        "startDate",
        "bump `secret_generation` in the pool's azure section",
    ),
}


def check(
    resource_type: str,
    props: Mapping[str, Any],
    max_age_days: int = MAX_AGE_DAYS,
    now: datetime | None = None,
) -> list[str]:
    if resource_type not in KEYS:
        return []
    field, how = KEYS[resource_type]
    created = props.get(field)
    if not isinstance(created, str) or not created:
        return []  # not created yet: nothing to date
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return []
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - when).days
    if age <= max_age_days:
        return []
    return [
        f"{resource_type} was created {age} days ago ({created}), more than the "
        f"{max_age_days} days allowed; rotate it: {how} and run `pulumi up` (the new key "
        "replaces it in the Prefect block, then the old one is deleted)"
    ]
