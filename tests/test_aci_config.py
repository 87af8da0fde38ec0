"""Bad Azure settings are refused before anything is declared, naming the key and the fix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pushpools.components.azure.settings import MAX_CLIENT_SECRET_DAYS, today_utc
from tests.harness import config_problems, inputs, run_pools
from tests.test_aci import SUB, aci_pool, expiry

KEY = "pushpools:pools[0].azure"


def problems_of(*pools: dict[str, Any], labels: dict[str, str] | None = None) -> list[str]:
    config: dict[str, Any] = {"pushpools:pools": list(pools)}
    if labels is not None:
        config["pushpools:labels"] = labels
    return config_problems(config)


def only_problem(*pools: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    problems = problems_of(*pools, labels=labels)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(
    "subscription",
    ["3f2b1c4d-5e6f-4a7b-8c9d", "not-a-guid", "3f2b1c4d5e6f4a7b8c9d0e1f2a3b4c5d", ""],
)
def test_a_malformed_subscription_id_is_refused(subscription: str) -> None:
    problem = only_problem(aci_pool(subscription_id=subscription))
    assert problem.startswith(f"{KEY}.subscription_id: {subscription!r} is not an Azure ")
    assert "GUID" in problem


def test_an_upper_case_subscription_id_is_taken_in_canonical_form() -> None:
    run = run_pools(aci_pool(subscription_id=SUB.upper()))
    assert inputs(run.one("pulumi:providers:azure-native"))["subscriptionId"] == SUB


def test_an_unknown_location_is_refused_with_a_suggestion() -> None:
    problem = only_problem(aci_pool(location="westeurop"))
    assert problem.startswith(f"{KEY}.location: 'westeurop' is not an Azure region")
    assert "did you mean 'westeurope'?" in problem
    assert "swedencentral" in problem  # lists what is allowed


def test_a_location_display_name_is_taken_as_its_arm_name() -> None:
    run = run_pools(aci_pool(location="North Europe"))
    assert inputs(run.one("azure-native:resources:ResourceGroup"))["location"] == "northeurope"


@pytest.mark.parametrize("name", ["prefect-images", "pre_fect", "abcd", "a" * 51, "flows.acr"])
def test_a_registry_name_azure_would_refuse_is_refused(name: str) -> None:
    problem = only_problem(aci_pool(names={"registry": name}))
    assert problem.startswith(f"{KEY}.names.registry: {name!r} is not a name Azure accepts")
    assert "5-50 letters and digits" in problem


def test_an_expiry_in_the_past_is_refused() -> None:
    yesterday = (today_utc() - timedelta(days=1)).isoformat()
    problem = only_problem(aci_pool(client_secret_expires_on=yesterday))
    assert problem.startswith(f"{KEY}.client_secret_expires_on: {yesterday} is not in the future")
    assert f"to {expiry(MAX_CLIENT_SECRET_DAYS)}" in problem


def test_an_expiry_of_today_is_refused() -> None:
    problem = only_problem(aci_pool(client_secret_expires_on=today_utc().isoformat()))
    assert "is not in the future" in problem


def test_an_expiry_beyond_the_documented_maximum_is_refused() -> None:
    too_late = expiry(MAX_CLIENT_SECRET_DAYS + 1)
    problem = only_problem(aci_pool(client_secret_expires_on=too_late))
    assert MAX_CLIENT_SECRET_DAYS == 730
    assert problem.startswith(f"{KEY}.client_secret_expires_on: {too_late} is more than 730 days")
    assert f"at most {expiry(MAX_CLIENT_SECRET_DAYS)}" in problem


def test_the_longest_allowed_expiry_is_accepted() -> None:
    run = run_pools(aci_pool(client_secret_expires_on=expiry(MAX_CLIENT_SECRET_DAYS)))
    password = run.one("azuread:index/applicationPassword:ApplicationPassword")
    assert inputs(password)["endDate"] == f"{expiry(MAX_CLIENT_SECRET_DAYS)}T00:00:00Z"


def test_the_secrets_lifetime_must_be_explicit() -> None:
    pool = aci_pool()
    del pool["azure"]["client_secret_expires_on"]
    assert only_problem(pool) == (
        f"{KEY}: set client_secret_rotation_days (a new client secret every that many days, "
        "e.g. 90) or client_secret_expires_on (a fixed last day, YYYY-MM-DD); neither is set"
    )


def test_an_expiry_that_is_not_a_date_is_refused() -> None:
    problem = only_problem(aci_pool(client_secret_expires_on="next year"))
    assert problem.startswith(f"{KEY}.client_secret_expires_on: 'next year' is not allowed")


def test_an_existing_group_and_a_group_to_create_contradict() -> None:
    problem = only_problem(
        aci_pool(existing_resource_group="shared-rg", names={"resource_group": "mine-rg"})
    )
    assert problem.startswith(f"{KEY}: give either existing_resource_group")


@pytest.mark.parametrize("group", ["ends-with-dot.", "has space", "a" * 91, "slash/rg"])
def test_an_invalid_resource_group_name_is_refused(group: str) -> None:
    problem = only_problem(aci_pool(existing_resource_group=group))
    assert problem.startswith(f"{KEY}.existing_resource_group: {group!r} is not a valid resource")


def test_an_invalid_identity_name_is_refused() -> None:
    problem = only_problem(aci_pool(names={"identity": "-id"}))
    assert problem.startswith(f"{KEY}.names.identity: '-id' is not a valid managed identity")


def test_an_unknown_role_is_refused() -> None:
    problem = only_problem(aci_pool(role="owner"))
    assert problem.startswith(f"{KEY}.role: 'owner' is not allowed")
    assert problem.endswith("allowed: 'contributor', 'least-privilege'")


def test_a_misspelt_setting_is_refused() -> None:
    problem = only_problem(aci_pool(subscription="x"))
    assert problem.startswith(f"{KEY}.subscription: unknown key; allowed keys here: ")
    assert "subscription_id" in problem


def test_a_pool_of_the_worker_type_is_built_the_same_way() -> None:
    pool = {**aci_pool(), "type": "azure-container-instance"}
    run = run_pools(pool)
    assert run.outputs["pools"]["aci"]["credentials_block"]["variable"] == "aci_credentials"
    assert len(run.find("azure-native:containerregistry:Registry")) == 1


def test_an_azure_pool_needs_its_azure_section() -> None:
    problem = only_problem({"name": "aci", "type": "azure-container-instance:push"})
    assert "needs an 'azure' section" in problem


def test_tags_azure_refuses_are_refused_by_key() -> None:
    problem = only_problem(aci_pool(), labels={"cost/center": "x"})
    assert problem.startswith("pushpools:labels.cost/center: key 'cost/center' is not allowed")
    problem = only_problem(aci_pool(), labels={"note": "x" * 257})
    assert problem.startswith("pushpools:labels.note: value is 257 characters long")


def test_tags_that_only_gcp_would_refuse_are_fine_on_azure() -> None:
    run = run_pools(aci_pool(), labels={"Cost Center": "Analytics & Co"})
    tags = inputs(run.one("azure-native:resources:ResourceGroup"))["tags"]
    assert tags["Cost Center"] == "Analytics & Co"


def test_two_helper_named_pools_cannot_create_the_same_group_identity_or_app() -> None:
    problems = problems_of(
        {**aci_pool("one"), "naming": "helper"}, {**aci_pool("two"), "naming": "helper"}
    )
    assert len(problems) == 3, problems
    assert any(p.startswith("pushpools:pools[1].azure.names.resource_group: ") for p in problems)
    assert any(p.startswith("pushpools:pools[1].azure.names.identity: ") for p in problems)
    assert any(p.startswith("pushpools:pools[1].azure.names.app_registration: ") for p in problems)
    assert all("already used by pool 'one'" in p for p in problems)


def test_two_pools_in_one_group_with_their_own_names_are_fine() -> None:
    two = aci_pool(
        "two",
        existing_resource_group="prefect-aci-push-pool-rg",
        names={"identity": "prefect-acr-identity-two", "app_registration": "prefect-two"},
    )
    one = aci_pool("one", existing_resource_group="prefect-aci-push-pool-rg")
    run = run_pools(one, two)
    registries = {
        inputs(r)["registryName"] for r in run.find("azure-native:containerregistry:Registry")
    }
    assert len(registries) == 2


def test_two_pools_cannot_ask_for_the_same_registry_name() -> None:
    problems = problems_of(
        aci_pool("one", names={"registry": "acmeflows"}),
        aci_pool(
            "two",
            subscription_id="9a8b7c6d-5e4f-4321-8765-0fedcba98765",
            names={"registry": "AcmeFlows", "app_registration": "prefect-two"},
        ),
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("pushpools:pools[1].azure.names.registry: container registry")
