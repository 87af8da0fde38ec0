"""The labels (GCP) and tags (AWS, Azure) every pushpools resource carries."""

from __future__ import annotations

from collections.abc import Mapping

MANAGED_BY = "pushpools"
OWN_LABELS = ("managed-by", "prefect-work-pool")
"""The labels pushpools sets on every resource itself (a stack's labels may not set them)."""


def resource_labels(stack_labels: Mapping[str, str], pool_name: str) -> dict[str, str]:
    """The stack's labels plus the two that say who manages a resource and for which pool."""
    return {**stack_labels, OWN_LABELS[0]: MANAGED_BY, OWN_LABELS[1]: pool_name}


def slug(text: str) -> str:
    """A child-name-safe slug: `roles/run.developer` -> `roles-run-developer`."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
