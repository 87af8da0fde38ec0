"""The Cloud Run pool: what gets created, granted where, and what Prefect receives."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from harness import inputs, outputs, run_pools

from pushpools.components.gcp.pool import API_PROPAGATION_SECONDS
from pushpools.components.pause import PauseProvider
from pushpools_tools.engine import ProgramRun, contains_secret, is_secret, reveal

PROJECT = "acme-data-dev"
PREFECT_SA = f"ml-prefect@{PROJECT}.iam.gserviceaccount.com"
RUNTIME_SA = f"ml-jobs@{PROJECT}.iam.gserviceaccount.com"

SERVICE = "gcp:projects/service:Service"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
ACCOUNT_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
KEY = "gcp:serviceaccount/key:Key"
PAUSE = "pulumi-python:dynamic/pushpools:Pause"
API_NAMES = ("run.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com")


def cloud_run_pool(name: str = "ml", **gcp: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "cloud-run:push",
        "gcp": {"project": PROJECT, "region": "europe-west1", **gcp},
    }


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    return run_pools(cloud_run_pool(), labels={"team": "data"})


def test_creates_what_prefects_helper_creates_plus_the_runtime_account(default_run) -> None:
    created = sorted((r.type, r.name) for r in default_run.resources if r.custom)
    assert created == sorted(
        [
            (SERVICE, "ml-run-api"),
            (SERVICE, "ml-artifactregistry-api"),
            (SERVICE, "ml-iam-api"),
            (PAUSE, "ml-api-propagation"),
            (REPOSITORY, "ml-images"),
            (ACCOUNT, "ml-prefect-sa"),
            (ACCOUNT, "ml-runtime-sa"),
            (PROJECT_MEMBER, "ml-roles-run-developer"),
            (ACCOUNT_MEMBER, "ml-act-as-runtime"),
            (KEY, "ml-key"),
        ]
    )
    component = default_run.one("pushpools:gcp:CloudRunPushPool", "ml")
    assert all(r.parent == component.urn for r in default_run.resources if r.custom)


def test_enables_run_artifactregistry_and_iam_and_never_disables_them(default_run) -> None:
    services = {inputs(r)["service"]: inputs(r) for r in default_run.find(SERVICE)}
    assert set(services) == {
        "run.googleapis.com",
        "artifactregistry.googleapis.com",
        "iam.googleapis.com",
    }
    for service in services.values():
        assert service["project"] == PROJECT
        assert service["disableOnDestroy"] is False


def test_what_needs_the_apis_waits_for_them_to_propagate(default_run) -> None:
    """A freshly enabled API can answer 403 SERVICE_DISABLED for a while: the accounts and
    the repository wait for a pause that starts once all three services are enabled."""
    pause = default_run.one(PAUSE, "ml-api-propagation")
    services = default_run.find(SERVICE)
    assert {s.urn for s in services} <= set(pause.dependencies)
    assert inputs(pause)["seconds"] == API_PROPAGATION_SECONDS >= 60
    # The mock's service IDs are `<project>/<service>`, as the provider's are.
    assert inputs(pause)["after"] == ",".join(sorted(f"{PROJECT}/{s}" for s in API_NAMES))
    for waiting in (*default_run.find(ACCOUNT), default_run.one(REPOSITORY)):
        assert pause.urn in waiting.dependencies, waiting.name


def test_the_api_wait_sleeps_on_create_and_never_on_an_unchanged_rerun(
    default_run, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    props = inputs(default_run.one(PAUSE, "ml-api-propagation"))
    provider = PauseProvider()
    provider.create(dict(props))
    assert slept == [API_PROPAGATION_SECONDS]
    # A rerun: the same services give the same `after`, so nothing is replaced or created.
    rerun = provider.diff(props["after"], dict(props), dict(props))
    assert (rerun.changes, rerun.replaces) == (False, [])
    # One more API enabled later is a new wait.
    more = {**props, "after": props["after"] + ",acme-data-dev/secretmanager.googleapis.com"}
    assert provider.diff(props["after"], dict(props), more).replaces == ["after"]


def test_with_services_left_to_the_organisation_nothing_waits() -> None:
    run = run_pools(cloud_run_pool(enable_services=False))
    assert run.find(PAUSE) == []
    assert run.one(ACCOUNT, "ml-prefect-sa").dependencies == ()


def test_names_are_derived_from_the_pool_name(default_run) -> None:
    prefect_sa = inputs(default_run.one(ACCOUNT, "ml-prefect-sa"))
    assert prefect_sa["accountId"] == "ml-prefect"
    assert prefect_sa["displayName"] == "Prefect Cloud Run Service Account"
    assert inputs(default_run.one(ACCOUNT, "ml-runtime-sa"))["accountId"] == "ml-jobs"
    repository = inputs(default_run.one(REPOSITORY))
    assert repository["repositoryId"] == "ml-images"
    assert repository["format"] == "DOCKER"
    assert repository["location"] == "europe-west1"
    blocks = reveal(default_run.outputs["credentials_blocks"])
    assert blocks["ml"]["name"] == "ml-push-pool-credentials"
    assert blocks["ml"]["type_slug"] == "gcp-credentials"


def test_helper_naming_gives_the_helpers_names() -> None:
    run = run_pools({**cloud_run_pool(), "naming": "helper"})
    assert inputs(run.one(ACCOUNT, "ml-prefect-sa"))["accountId"] == "prefect-cloud-run"
    assert inputs(run.one(ACCOUNT, "ml-runtime-sa"))["accountId"] == "prefect-cloud-run-jobs"
    assert inputs(run.one(REPOSITORY))["repositoryId"] == "prefect-images"


def test_a_long_pool_name_is_cut_to_the_account_id_limit_with_a_stable_hash() -> None:
    name = "machine-learning-training-nightly"
    run = run_pools(cloud_run_pool(name))
    ids = {r.name: inputs(r)["accountId"] for r in run.find(ACCOUNT)}
    assert all(
        len(i) <= 30 and i[-1] != "-" and i.startswith("machine-learning") for i in ids.values()
    )
    assert len(set(ids.values())) == 2
    # Stable: the same names on the next run (resources register in no fixed order).
    again = {r.name: inputs(r)["accountId"] for r in run_pools(cloud_run_pool(name)).find(ACCOUNT)}
    assert again == ids


def test_prefect_account_gets_run_developer_on_the_project(default_run) -> None:
    grant = inputs(default_run.one(PROJECT_MEMBER, "ml-roles-run-developer"))
    assert grant == {
        "project": PROJECT,
        "role": "roles/run.developer",
        "member": f"serviceAccount:{PREFECT_SA}",
    }


def test_act_as_is_granted_on_the_runtime_account_only(default_run) -> None:
    grant = inputs(default_run.one(ACCOUNT_MEMBER, "ml-act-as-runtime"))
    assert grant == {
        "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{RUNTIME_SA}",
        "role": "roles/iam.serviceAccountUser",
        "member": f"serviceAccount:{PREFECT_SA}",
    }
    project_roles = [inputs(r)["role"] for r in default_run.find(PROJECT_MEMBER)]
    assert "roles/iam.serviceAccountUser" not in project_roles


def test_listed_accounts_deployments_may_run_as_get_act_as_too() -> None:
    # A deployment overriding `service_account_name` makes Cloud Run check act-as on that
    # account: without a grant there, its runs fail with PERMISSION_DENIED.
    other = f"etl-reader@{PROJECT}.iam.gserviceaccount.com"
    compute = "123456789012-compute@developer.gserviceaccount.com"
    run = run_pools(cloud_run_pool(act_as_service_accounts=[other, compute]))
    grants = {inputs(r)["serviceAccountId"]: inputs(r) for r in run.find(ACCOUNT_MEMBER)}
    assert set(grants) == {
        f"projects/{PROJECT}/serviceAccounts/{RUNTIME_SA}",
        f"projects/{PROJECT}/serviceAccounts/{other}",
        f"projects/{PROJECT}/serviceAccounts/{compute}",
    }
    for grant in grants.values():
        assert grant["role"] == "roles/iam.serviceAccountUser"
        assert grant["member"] == f"serviceAccount:{PREFECT_SA}"
    assert not [r for r in run.find(PROJECT_MEMBER) if "serviceAccountUser" in inputs(r)["role"]]


def test_project_wide_act_as_is_opt_in() -> None:
    run = run_pools(cloud_run_pool(service_account_user_scope="project"))
    assert run.find(ACCOUNT_MEMBER) == []
    grant = inputs(run.one(PROJECT_MEMBER, "ml-roles-iam-serviceaccountuser"))
    assert grant["role"] == "roles/iam.serviceAccountUser"
    assert grant["project"] == PROJECT
    assert grant["member"] == f"serviceAccount:{PREFECT_SA}"


def test_runtime_roles_go_to_the_runtime_account() -> None:
    run = run_pools(cloud_run_pool(runtime_roles=["roles/bigquery.jobUser"]))
    grant = inputs(run.one(PROJECT_MEMBER, "ml-runtime-roles-bigquery-jobuser"))
    assert grant == {
        "project": PROJECT,
        "role": "roles/bigquery.jobUser",
        "member": f"serviceAccount:{RUNTIME_SA}",
    }


def test_labels_carry_the_stack_labels_the_manager_and_the_pool(default_run) -> None:
    assert inputs(default_run.one(REPOSITORY))["labels"] == {
        "team": "data",
        "managed-by": "pushpools",
        "prefect-work-pool": "ml",
    }


def test_untagged_image_cleanup_is_opt_in() -> None:
    assert "cleanupPolicies" not in inputs(run_pools(cloud_run_pool()).one(REPOSITORY))
    run = run_pools(cloud_run_pool(delete_untagged_images_after_days=7))
    assert inputs(run.one(REPOSITORY))["cleanupPolicies"] == [
        {
            "id": "delete-untagged",
            "action": "DELETE",
            "condition": {"tagState": "UNTAGGED", "olderThan": "604800s"},
        }
    ]


def test_services_can_be_left_to_the_organisation() -> None:
    assert run_pools(cloud_run_pool(enable_services=False)).find(SERVICE) == []


def test_every_name_can_be_overridden() -> None:
    run = run_pools(
        cloud_run_pool(
            names={
                "service_account": "ml-prefect",
                "runtime_service_account": "ml-flows",
                "repository": "ml-images",
            }
        )
        | {"credentials_block_name": "ml-gcp"}
    )
    assert inputs(run.one(ACCOUNT, "ml-prefect-sa"))["accountId"] == "ml-prefect"
    assert inputs(run.one(ACCOUNT, "ml-runtime-sa"))["accountId"] == "ml-flows"
    assert inputs(run.one(REPOSITORY))["repositoryId"] == "ml-images"
    assert reveal(run.outputs["credentials_blocks"])["ml"]["name"] == "ml-gcp"


def test_the_key_is_secret_from_birth(default_run) -> None:
    key = default_run.one(KEY)
    assert is_secret(key.outputs["privateKey"])
    assert is_secret(default_run.outputs["credentials_blocks"])
    assert not contains_secret(default_run.outputs["pools"])
    plain_outputs = json.dumps(default_run.outputs["pools"])
    assert "PRIVATE KEY" not in plain_outputs
    assert "private_key" not in plain_outputs


def test_block_payload_holds_the_key_file_as_an_object(default_run) -> None:
    data = reveal(default_run.outputs["credentials_blocks"])["ml"]["data"]
    assert set(data) == {"service_account_info", "project"}
    assert data["project"] == PROJECT
    info = data["service_account_info"]
    assert info["type"] == "service_account"
    assert info["client_email"] == PREFECT_SA
    assert info["project_id"] == PROJECT
    key_file = json.loads(base64.b64decode(outputs(default_run.one(KEY))["privateKey"]))
    assert info == key_file


def test_prefects_own_block_class_accepts_the_payload(default_run) -> None:
    from prefect_gcp import GcpCredentials

    data = reveal(default_run.outputs["credentials_blocks"])["ml"]["data"]
    block = GcpCredentials(**data)
    credentials = block.get_credentials_from_service_account()
    assert credentials.service_account_email == PREFECT_SA
    assert block.project == PROJECT


def test_template_defaults_set_region_and_runtime_account(default_run) -> None:
    pool = default_run.outputs["pools"]["ml"]
    assert pool["template_defaults"] == {
        "region": "europe-west1",
        "service_account_name": RUNTIME_SA,
    }
    assert pool["credentials_block"] == {
        "type_slug": "gcp-credentials",
        "name": "ml-push-pool-credentials",
        "variable": "credentials",
    }
    assert pool["image_namespace"] == f"europe-west1-docker.pkg.dev/{PROJECT}/ml-images"


def test_bumping_the_key_generation_replaces_the_key() -> None:
    first = run_pools(cloud_run_pool())
    second = run_pools(cloud_run_pool(key_generation=2))
    assert inputs(first.one(KEY))["keepers"] == {"generation": "1"}
    assert inputs(second.one(KEY))["keepers"] == {"generation": "2"}
    first_key = reveal(first.outputs["credentials_blocks"])["ml"]["data"]
    second_key = reveal(second.outputs["credentials_blocks"])["ml"]["data"]
    assert (
        first_key["service_account_info"]["private_key_id"]
        != second_key["service_account_info"]["private_key_id"]
    )


@pytest.mark.parametrize("pool_type", ["cloud-run-v2:push", "cloud-run", "cloud-run-v2"])
def test_v2_and_worker_types_get_the_same_infrastructure(pool_type) -> None:
    run = run_pools(cloud_run_pool() | {"type": pool_type})
    assert len(run.find(ACCOUNT)) == 2
    assert run.outputs["pools"]["ml"]["type"] == pool_type
    assert run.outputs["pools"]["ml"]["template_defaults"]["region"] == "europe-west1"


def test_two_pools_in_two_projects_are_independent() -> None:
    run = run_pools(
        cloud_run_pool("ml"),
        {"name": "etl", "type": "cloud-run:push", "gcp": {"project": "acme-etl-prod"}},
    )
    emails = sorted(outputs(r)["email"] for r in run.find(ACCOUNT))
    assert emails == sorted(
        [
            PREFECT_SA,
            RUNTIME_SA,
            "etl-prefect@acme-etl-prod.iam.gserviceaccount.com",
            "etl-jobs@acme-etl-prod.iam.gserviceaccount.com",
        ]
    )
    assert run.outputs["pools"]["etl"]["template_defaults"]["region"] == "us-central1"
