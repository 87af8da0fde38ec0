"""Bad stack config is refused before anything is declared, with messages a user can act on."""

from __future__ import annotations

from typing import Any

import pytest
from harness import config_problems

from pushpools.components.config import pool_types


def gcp_pool(name: str = "ml", **overrides: Any) -> dict[str, Any]:
    pool = {"name": name, "type": "cloud-run:push", "gcp": {"project": "acme-data-dev"}}
    return pool | overrides


def pools(*items: dict[str, Any]) -> dict[str, Any]:
    return {"pushpools:pools": list(items)}


def test_a_malformed_project_id_names_key_value_and_rule() -> None:
    problems = config_problems(pools(gcp_pool(gcp={"project": "Acme_Data"})))
    assert problems == [
        "pushpools:pools[0].gcp.project: 'Acme_Data' is not a valid GCP project ID; "
        "allowed: 6-30 characters, lowercase letters, digits and hyphens, starting with a "
        "letter, not ending with a hyphen"
    ]


def test_an_unknown_region_suggests_the_closest_one() -> None:
    (problem,) = config_problems(
        pools(gcp_pool(gcp={"project": "acme-data-dev", "region": "us-centrl1"}))
    )
    assert problem.startswith(
        "pushpools:pools[0].gcp.region: 'us-centrl1' is not a Cloud Run region "
        "(did you mean 'us-central1'?); allowed: "
    )
    assert "allowed: africa-south1," in problem


def test_a_pool_name_prefect_refuses() -> None:
    (problem,) = config_problems(pools(gcp_pool(name="prefect-ml")))
    assert problem == (
        "pushpools:pools[0].name: 'prefect-ml' is refused by Prefect: work-pool names may "
        "not start with 'prefect'"
    )


def test_a_pool_name_that_cannot_name_a_block() -> None:
    (problem,) = config_problems(pools(gcp_pool(name="ML Pool")))
    assert problem.startswith("pushpools:pools[0].name: 'ML Pool' is not a valid pool name;")
    assert "lowercase letters, digits and dashes" in problem


def test_duplicate_pool_names() -> None:
    problems = config_problems(
        pools(gcp_pool("ml"), gcp_pool("ml", gcp={"project": "acme-other-prj"}))
    )
    assert (
        "pushpools:pools[1].name: 'ml' is already the name of pools[0]; pool names must be unique"
    ) in problems


def test_two_helper_named_pools_would_create_the_same_service_account() -> None:
    problems = config_problems(
        pools(gcp_pool("ml", naming="helper"), gcp_pool("etl", naming="helper"))
    )
    assert (
        "pushpools:pools[1].gcp.names.service_account: service account 'prefect-cloud-run' "
        "in project acme-data-dev is already used by pool 'ml'; give one of them another name"
    ) in problems
    assert any(p.startswith("pushpools:pools[1].gcp.names.repository:") for p in problems)


def test_an_unknown_key_lists_the_allowed_ones() -> None:
    (problem,) = config_problems(
        pools(gcp_pool(gcp={"project": "acme-data-dev", "regoin": "us-east1"}))
    )
    assert problem.startswith("pushpools:pools[0].gcp.regoin: unknown key; allowed keys here:")
    assert "region" in problem
    assert "project" in problem


def test_an_unknown_top_level_key() -> None:
    problems = config_problems(pools(gcp_pool()) | {"pushpools:pool": []})
    assert problems[0].startswith("pushpools:pool: unknown key; allowed keys:")
    assert "pools" in problems[0]


def test_a_missing_required_value() -> None:
    problems = config_problems(pools({"name": "ml", "type": "cloud-run:push", "gcp": {}}))
    assert problems == ["pushpools:pools[0].gcp.project: required, but not set"]


def test_a_missing_cloud_section() -> None:
    (problem,) = config_problems(pools({"name": "ml", "type": "cloud-run:push"}))
    assert problem == (
        "pushpools:pools[0]: pool 'ml' of type 'cloud-run:push' needs a 'gcp' section "
        "with its cloud settings"
    )


def test_no_pools_at_all() -> None:
    (problem,) = config_problems({})
    assert problem == "pushpools:pools: required, but not set"


def test_a_wrong_type() -> None:
    (problem,) = config_problems(
        pools(gcp_pool(gcp={"project": "acme-data-dev", "key_generation": "soon"}))
    )
    assert problem.startswith("pushpools:pools[0].gcp.key_generation: 'soon' is not allowed:")
    assert "integer" in problem


def test_an_unknown_pool_type_lists_the_known_ones() -> None:
    (problem,) = config_problems(pools(gcp_pool(type="lambda:push")))
    assert problem.startswith("pushpools:pools[0].type: 'lambda:push' is not allowed:")
    assert "'cloud-run:push'" in problem


def test_a_type_without_a_component_is_refused_not_ignored(monkeypatch) -> None:
    monkeypatch.setattr(pool_types, "SUPPORTED_CLOUDS", frozenset({pool_types.Cloud.GCP}))
    monkeypatch.setattr(
        "pushpools.components.config.stack.SUPPORTED_CLOUDS", frozenset({pool_types.Cloud.GCP})
    )
    (problem,) = config_problems(pools({"name": "ml", "type": "ecs:push"}))
    assert problem.startswith(
        "pushpools:pools[0]: pool type 'ecs:push' is not yet supported by this version of "
        "pushpools; supported types: cloud-run, cloud-run-v2, cloud-run-v2:push, cloud-run:push"
    )


def test_labels_gcp_would_refuse() -> None:
    problems = config_problems(pools(gcp_pool()) | {"pushpools:labels": {"Team": "Data"}})
    assert problems == [
        "pushpools:labels.Team: key 'Team' is not allowed on GCP resources; allowed: "
        "lowercase letters, digits, '_' and '-', starting with a letter, at most 63 characters"
    ]


def test_an_iam_role_that_is_not_a_role_name() -> None:
    (problem,) = config_problems(
        pools(gcp_pool(gcp={"project": "acme-data-dev", "runtime_roles": ["bigquery.admin"]}))
    )
    assert problem.startswith(
        "pushpools:pools[0].gcp.runtime_roles: 'bigquery.admin' is not an IAM role name;"
    )


def test_every_problem_is_reported_at_once() -> None:
    problems = config_problems(
        pools(
            gcp_pool(name="prefect-a", gcp={"project": "x"}),
            gcp_pool(name="b", gcp={"project": "acme-data-dev", "region": "mars-1"}),
        )
    )
    assert [p.split(":")[1].split(" ")[0] for p in problems] == [
        "pools[0].name",
        "pools[0].gcp.project",
        "pools[1].gcp.region",
    ]


def test_plain_config_stored_as_a_secret_is_refused() -> None:
    problems = config_problems(
        {"pushpools:pools": [gcp_pool()], "pushpools:labels": {"team": "data"}},
        secret_keys=["pushpools:labels"],
    )
    assert problems == [
        "pushpools:labels: is stored as a secret, but holds no credential; "
        "set it with plain `pulumi config set`"
    ]


@pytest.mark.parametrize("value", [0, 3651])
def test_image_cleanup_days_out_of_range(value: int) -> None:
    (problem,) = config_problems(
        pools(
            gcp_pool(gcp={"project": "acme-data-dev", "delete_untagged_images_after_days": value})
        )
    )
    assert problem.startswith(
        f"pushpools:pools[0].gcp.delete_untagged_images_after_days: {value} is not allowed:"
    )
