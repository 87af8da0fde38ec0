"""The least-privilege Azure role: its assignment waits for the new definition to
replicate, and the pause that waits does what it says."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from harness import inputs, run_pools

from pushpools.components.azure.pool import ROLE_REPLICATION_SECONDS
from pushpools.components.azure.settings import today_utc
from pushpools.components.pause import PauseProvider
from pushpools_tools.engine import ProgramRun

DEFINITION = "azure-native:authorization:RoleDefinition"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
PAUSE = "pulumi-python:dynamic/pushpools:Pause"


def _pool(role: str) -> dict[str, object]:
    return {
        "name": "aci",
        "type": "azure-container-instance:push",
        "azure": {
            "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
            "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
            "role": role,
        },
    }


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(_pool("least-privilege"))


@pytest.mark.parametrize(
    ("role", "assignment_name"),
    [
        ("aci-runner-role", "aci-run-container-groups"),
        ("aci-identity-user-role", "aci-assign-identity"),
    ],
)
def test_each_assignment_waits_for_a_pause_after_its_definition(
    run: ProgramRun, role: str, assignment_name: str
) -> None:
    definition = run.one(DEFINITION, f"aci-{role}")
    pause = run.one(PAUSE, f"aci-{role}-replication")
    assignment = run.one(ASSIGNMENT, assignment_name)
    assert definition.urn in pause.dependencies
    assert pause.urn in assignment.dependencies
    assert inputs(pause)["seconds"] == ROLE_REPLICATION_SECONDS >= 30
    # The assignment names the definition it waited for.
    assert inputs(assignment)["roleDefinitionId"] == inputs(pause)["after"]


def test_a_built_in_role_needs_no_pause() -> None:
    assert run_pools(_pool("contributor")).find(PAUSE) == []


def test_the_pause_sleeps_on_create_and_again_only_for_a_new_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    provider = PauseProvider()
    created = provider.create({"after": "/defs/one", "seconds": 60})
    assert (created.id, slept) == ("/defs/one", [60.0])
    same = provider.diff(
        "/defs/one", {"after": "/defs/one", "seconds": 60}, {"after": "/defs/one", "seconds": 90}
    )
    assert same.replaces == []
    new = provider.diff(
        "/defs/one", {"after": "/defs/one", "seconds": 60}, {"after": "/defs/two", "seconds": 60}
    )
    assert new.replaces == ["after"]
