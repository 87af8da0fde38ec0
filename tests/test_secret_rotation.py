"""A client secret that rotates with time, not with a date written in the stack file.

The rotation's provider is called directly, as the engine calls it (check, then diff and
create), on chosen days; the pool is planned on the offline engine.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from harness import inputs, run_pools

from pushpools.components import clock
from pushpools.components.rotation import RotationProvider
from pushpools_tools.engine import ProgramRun
from tests.clock import FIXED_TODAY, fixed_clock

ROTATION = "pulumi-python:dynamic/pushpools:Rotation"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
SETTINGS = {"rotate_after_days": 90, "valid_days": 120}


def _check(olds: dict[str, Any], news: dict[str, Any], day: date) -> dict[str, Any]:
    with fixed_clock(day):
        return RotationProvider().check(olds, news).inputs


def test_a_new_rotation_starts_today_and_a_preview_already_shows_its_dates() -> None:
    # `check` runs in previews too, and a preview shows a new resource's checked inputs.
    state = _check({}, dict(SETTINGS), date(2027, 1, 10))
    assert state == {
        **SETTINGS,
        "started_on": "2027-01-10",
        "rotate_on": "2027-04-10",
        "expires_at": "2027-05-10T00:00:00Z",
    }
    created = RotationProvider().create(state)
    assert created.outs == state


def test_a_rerun_before_the_rotation_day_changes_nothing() -> None:
    state = _check({}, dict(SETTINGS), date(2027, 1, 10))
    rerun = _check(state, dict(SETTINGS), date(2027, 4, 9))
    assert rerun == state
    diff = RotationProvider().diff("2027-01-10", state, rerun)
    assert (diff.changes, diff.replaces) == (False, [])


def test_the_first_run_on_or_after_the_rotation_day_starts_a_new_period() -> None:
    state = _check({}, dict(SETTINGS), date(2027, 1, 10))
    late = _check(state, dict(SETTINGS), date(2027, 4, 25))
    assert late["started_on"] == "2027-04-25"
    assert late["expires_at"] == "2027-08-23T00:00:00Z"
    diff = RotationProvider().diff("2027-01-10", state, late)
    assert diff.replaces == ["started_on"]
    assert diff.delete_before_replace is False


def test_new_settings_start_a_new_period() -> None:
    state = _check({}, dict(SETTINGS), date(2027, 1, 10))
    shorter = _check(state, {"rotate_after_days": 30, "valid_days": 60}, date(2027, 1, 20))
    assert shorter["started_on"] == "2027-01-20"
    assert RotationProvider().diff("2027-01-10", state, shorter).replaces == ["started_on"]


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    with fixed_clock():
        return run_pools(
            {
                "name": "aci",
                "type": "azure-container-instance:push",
                "azure": {
                    "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                    "client_secret_rotation_days": 90,
                    "client_secret_grace_days": 14,
                },
            }
        )


def test_the_secret_ends_with_its_rotation_period_plus_grace(run: ProgramRun) -> None:
    rotation = run.one(ROTATION, "aci-client-secret-rotation")
    assert {k: inputs(rotation)[k] for k in SETTINGS} == {
        "rotate_after_days": 90,
        "valid_days": 104,
    }
    secret = run.one(PASSWORD, "aci-client-secret")
    end = (FIXED_TODAY + timedelta(days=104)).isoformat()
    assert inputs(secret)["endDate"] == f"{end}T00:00:00Z"
    # A new period is a new end date, which replaces the secret (and updates the block).
    assert rotation.urn in secret.dependencies


def test_the_tests_run_on_a_fixed_day() -> None:
    assert clock.today_utc() == FIXED_TODAY
