"""Who owns the ACI pool's Entra app registration and its service principal.

A deploy identity holding only Microsoft Graph `Application.ReadWrite.OwnedBy` (the shipped
GitOps one) may update and delete only the directory objects it owns: without it among
their owners, the next secret rotation or `pulumi destroy` is refused with 403.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import pulumi
import pytest

from pushpools_tools.diff import diff_plans
from pushpools_tools.diff import render_text as render_diff
from pushpools_tools.engine import ProgramRun
from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document, render_text
from pushpools_tools.provider_mocks.azuread import DEPLOYER_OBJECT_ID
from tests.harness import inputs, run_pools
from tests.test_aci import APP, SP, aci_pool
from tests.test_aci_config import KEY, only_problem

CLIENT_CONFIG = "azuread:index/getClientConfig:getClientConfig"
ALICE = "5d2c8e1a-7b3f-4c6d-9e8a-1f0b2c3d4e5f"
CI_DEPLOY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(aci_pool())


def owners(run: ProgramRun, pool: str = "aci") -> dict[str, list[str]]:
    return {
        "app": inputs(run.one(APP, f"{pool}-app"))["owners"],
        "sp": inputs(run.one(SP, f"{pool}-sp"))["owners"],
    }


def test_the_deploying_principal_owns_the_app_and_its_service_principal(
    run: ProgramRun,
) -> None:
    # The provider's own answer to "who am I signed in as".
    assert (CLIENT_CONFIG, {}) in run.invokes
    assert owners(run) == {"app": [DEPLOYER_OBJECT_ID], "sp": [DEPLOYER_OBJECT_ID]}


def test_the_plan_shows_the_owners(run: ProgramRun) -> None:
    text = render_text(run)
    app_section = text[text.index("aci-app") : text.index("aci-sp")]
    assert "owners" in app_section
    assert DEPLOYER_OBJECT_ID in app_section


def _diff_without_owners_before(run: ProgramRun, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The diff from what every stack deployed before this release declared (no owners)."""
    monkeypatch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")
    new = plan_document(run)
    old = copy.deepcopy(new)
    for resource in old["resources"]:
        if resource["type"] in (APP, SP):
            resource["inputs"].pop("owners")
            resource.get("options", {}).pop("ignore_changes", None)
    return diff_plans(old, new)


def test_by_default_the_owners_are_set_at_creation_and_not_compared_again(
    run: ProgramRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulumi keeps an ignored input's old value: an existing app is neither replaced nor
    given new owners (an administrator adds the deployer once, as CHANGELOG says), and a
    preview by another principal (the GitOps preview and drift jobs) plans no change."""
    for resource in (run.one(APP, "aci-app"), run.one(SP, "aci-sp")):
        assert resource.options.get("ignore_changes") == ["owners"]
    diff = _diff_without_owners_before(run, monkeypatch)
    changed = {c.name: [i.key for i in c.inputs] for c in diff.changes}
    assert changed == {
        "aci-app": ["(option) ignore_changes"],
        "aci-sp": ["(option) ignore_changes"],
    }
    assert all(c.action == "update" for c in diff.changes)


def test_listed_app_owners_are_kept_as_listed_in_place_not_a_new_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = run_pools(aci_pool(app_owners=[CI_DEPLOY]))
    for resource in (run.one(APP, "aci-app"), run.one(SP, "aci-sp")):
        assert "ignore_changes" not in resource.options
    diff = _diff_without_owners_before(run, monkeypatch)
    assert sorted((c.action, c.name) for c in diff.changes) == [
        ("update", "aci-app"),
        ("update", "aci-sp"),
    ]
    assert all(not i.forces_replacement for c in diff.changes for i in c.inputs)
    text = render_diff(diff)
    assert "2 to update" in text
    assert "replace" not in text
    assert f'owners: null → ["{CI_DEPLOY}"]' in text


def test_app_owners_is_the_whole_list_so_owners_do_not_follow_who_runs_it() -> None:
    # Listed in any case and order: Graph answers lower case, and a set is compared.
    run = run_pools(aci_pool(app_owners=[CI_DEPLOY.upper(), ALICE]))
    expected = sorted([CI_DEPLOY, ALICE])
    assert owners(run) == {"app": expected, "sp": expected}


def test_a_deploying_principal_missing_from_app_owners_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        run_pools(aci_pool(app_owners=[CI_DEPLOY]))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    about_owners = [w for w in warnings if "azure.app_owners" in w]
    assert len(about_owners) == 1, warnings
    assert DEPLOYER_OBJECT_ID in about_owners[0]
    assert "pool aci" in about_owners[0]


def test_no_warning_when_the_deploying_principal_is_listed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        run_pools(aci_pool(app_owners=[CI_DEPLOY, DEPLOYER_OBJECT_ID]))
    assert not [r for r in caplog.records if "azure.app_owners" in r.getMessage()]


@pytest.mark.parametrize(
    ("owners_", "says"),
    [
        (["alice@example.com"], "'alice@example.com' is not an Entra object ID"),
        ([ALICE, "5d2c8e1a-7b3f-4c6d-9e8a"], "'5d2c8e1a-7b3f-4c6d-9e8a' is not an Entra object"),
        ([], "[] would leave the app registration without owners"),
        ([ALICE, ALICE.upper()], "are one object ID; list each owner once"),
        ([ALICE, ALICE], "is listed twice (entries [0] and [1])"),
    ],
)
def test_bad_app_owners_are_refused_naming_the_key(owners_: list[Any], says: str) -> None:
    problem = only_problem(aci_pool(app_owners=owners_))
    assert problem.startswith(f"{KEY}.app_owners: "), problem
    assert says in problem


class _AnswerNothing(pulumi.runtime.Mocks):
    """A user's plain mocks written before this invoke existed: every invoke gets `{}`."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def test_plain_mocks_that_answer_no_invoke_still_build_the_pool() -> None:
    from pushpools.components.azure.pool import AciPushPool

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = _AnswerNothing()
    pulumi.runtime.set_mocks(mocks, project="users-program", stack="dev", preview=False)
    try:

        @pulumi.runtime.test
        def declare() -> pulumi.Output:
            pool = AciPushPool("aci", aci_pool()["azure"])
            return pool.template_defaults

        declare()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    app = next(r for r in mocks.resources if r.typ == APP)
    # No login to ask: no owner is made up (a real login always answers).
    assert app.inputs["owners"] == []
