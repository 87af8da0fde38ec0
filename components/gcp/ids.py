"""Google Cloud's rules for the IDs a stack names: one check, and one message, each.

Pure (no Pulumi, no cloud SDK): the settings of Cloud Run pools, their networks and
Coiled's GCP setup all check a project or service account ID the same way."""

from __future__ import annotations

import re

# Project IDs and service account IDs share a rule: 6-30 characters, lowercase letters,
# digits and hyphens, starting with a letter, not ending with a hyphen.
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_SERVICE_ACCOUNT_ID = _PROJECT_ID
_ALLOWED = (
    "6-30 characters, lowercase letters, digits and hyphens, starting with a letter, "
    "not ending with a hyphen"
)


def checked_project_id(value: str) -> str:
    """The project ID, or ValueError saying what Google allows."""
    if not _PROJECT_ID.match(value):
        raise ValueError(f"{value!r} is not a valid GCP project ID; allowed: {_ALLOWED}")
    return value


def checked_service_account_id(value: str) -> str:
    """The service account ID (the part before `@`), or ValueError saying what is allowed."""
    if not _SERVICE_ACCOUNT_ID.match(value):
        raise ValueError(f"{value!r} is not a valid service account ID; allowed: {_ALLOWED}")
    return value
