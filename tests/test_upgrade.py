"""Upgrade test: this release plans every recorded stack exactly as the recorded release did.

A user's existing stack must not notice a new release: the same resources, under the same
URNs (type tokens, logical names, parents), with the same inputs and dependencies, and
secrets of the same content (compared by keyed digest, never by value). The recorded plans
under tests/upgrade/recorded/ were made before the one-source-of-truth redesign.

If this fails, the change would replace, rename or orphan users' resources. Do not
re-record to make it pass: keep the old behaviour, or add an alias, and only for a change
meant to alter users' stacks re-record (`python -m tests.upgrade.record`) with a CHANGELOG
entry saying what users must do.
"""

from __future__ import annotations

import json

import pytest

from tests.upgrade.record import plan_of
from tests.upgrade.stacks import RECORDED_DIR, STACK_FILES


@pytest.mark.parametrize("name", sorted(STACK_FILES))
def test_the_stack_plans_exactly_as_recorded(name: str) -> None:
    recorded = json.loads((RECORDED_DIR / f"{name}.json").read_text())
    planned = json.loads(json.dumps(plan_of(name), sort_keys=True))
    assert [r["urn"] for r in planned["resources"]] == [r["urn"] for r in recorded["resources"]]
    by_urn = {r["urn"]: r for r in recorded["resources"]}
    for resource in planned["resources"]:
        assert resource == by_urn[resource["urn"]], resource["urn"]
    assert planned == recorded


def test_the_recorded_plans_hold_no_secret() -> None:
    for path in RECORDED_DIR.glob("*.json"):
        text = path.read_text()
        assert "PRIVATE KEY" not in text
        assert "[secret]" not in text or "[secret " in text  # masked, with digests only
