"""Cloud Run private networking: the connector, the grants across projects for a Shared
VPC, the template default that points jobs at it, and what a stack without it keeps."""

from __future__ import annotations

from typing import Any

import pytest
from harness import PROJECT_DIR, config_problems, inputs, plan_cli, run_config, run_pools

from pushpools_tools.diff import diff_plans, render_text
from pushpools_tools.engine import ProgramRun
from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document
from pushpools_tools.provider_mocks import stable_number

NETWORK_STACK = PROJECT_DIR / "tests" / "stacks" / "Pulumi.private-network.yaml"
PROJECT = "acme-data-dev"
HOST = "acme-net-host"
NUMBER = stable_number("project-number", PROJECT)
RUN_AGENT = f"serviceAccount:service-{NUMBER}@serverless-robot-prod.iam.gserviceaccount.com"
VPCACCESS_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-vpcaccess.iam.gserviceaccount.com"
GOOGLE_APIS_AGENT = f"serviceAccount:{NUMBER}@cloudservices.gserviceaccount.com"

CONNECTOR = "gcp:vpcaccess/connector:Connector"
SUBNET_MEMBER = "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
ACCOUNT_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE = "gcp:projects/service:Service"
PAUSE = "pulumi-python:dynamic/pushpools:Pause"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
GET_PROJECT = "gcp:organizations/getProject:getProject"
CLOUD = (
    "https://api.prefect.cloud/api/accounts/0b8f9c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e/"
    "workspaces/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)


def pool(network: dict[str, Any] | None, name: str = "ml", **extra: Any) -> dict[str, Any]:
    gcp: dict[str, Any] = {"project": PROJECT, "region": "europe-west1"}
    if network is not None:
        gcp["network"] = network
    return {"name": name, "type": "cloud-run:push", "gcp": gcp, **extra}


NEW_RANGE = {"connector": {"network": "default", "ip_cidr_range": "10.8.0.0/28"}}
SHARED_SUBNET = {"connector": {"subnet": "prefect-connector", "host_project": HOST}}
HOST_CONNECTOR = f"projects/{HOST}/locations/europe-west1/connectors/shared-europe"


def registered(*pools: dict[str, Any]) -> ProgramRun:
    """A run with registration in Prefect Cloud on: the work pools are declared too."""
    return run_config(
        {
            "pushpools:pools": list(pools),
            "pushpools:prefect": {"api_url": CLOUD},
            "pushpools:prefectApiKey": "pnu_test",
        },
        secret_keys=["pushpools:prefectApiKey"],
    )


@pytest.fixture(scope="module")
def new_range() -> ProgramRun:
    return registered(pool(NEW_RANGE))


@pytest.fixture(scope="module")
def shared_subnet() -> ProgramRun:
    return run_pools(pool(SHARED_SUBNET))


def defaults(run: ProgramRun, name: str = "ml") -> dict[str, Any]:
    return run.outputs["pools"][name]["template_defaults"]


def test_a_new_connector_on_a_new_range_of_the_projects_network(new_range) -> None:
    connector = inputs(new_range.one(CONNECTOR, "ml-vpc-connector"))
    assert connector == {
        "project": PROJECT,
        "region": "europe-west1",
        "name": "ml-vpc",
        "network": "default",
        "ipCidrRange": "10.8.0.0/28",
        "minInstances": 2,
        "maxInstances": 3,
        "machineType": "e2-micro",
    }
    component = new_range.one("pushpools:gcp:CloudRunPushPool", "ml")
    assert new_range.one(CONNECTOR).parent == component.urn


def test_the_template_points_jobs_at_the_connector_by_its_full_name(new_range) -> None:
    assert defaults(new_range)["vpc_connector_name"] == (
        f"projects/{PROJECT}/locations/europe-west1/connectors/ml-vpc"
    )
    # Registration sends it with the other defaults.
    registered = inputs(new_range.one(WORK_POOL))["template_defaults"]
    assert registered["vpc_connector_name"] == defaults(new_range)["vpc_connector_name"]


def test_the_connector_waits_for_the_vpcaccess_api(new_range) -> None:
    services = {inputs(s)["service"]: s for s in new_range.find(SERVICE)}
    assert "vpcaccess.googleapis.com" in services
    api = services["vpcaccess.googleapis.com"]
    assert inputs(api)["disableOnDestroy"] is False
    pause = new_range.one(PAUSE)
    assert api.urn in pause.dependencies
    assert pause.urn in new_range.one(CONNECTOR).dependencies


def test_on_its_own_network_nobody_gets_a_grant_for_it(new_range) -> None:
    """The runtime account needs nothing for a connector, nor does the Cloud Run agent
    for one of its own project: the pool's grants stay exactly those of a pool without."""
    plain = run_pools(pool(None))

    def grants(run: ProgramRun) -> list[tuple[str, str, str]]:
        found = [*run.find(PROJECT_MEMBER), *run.find(ACCOUNT_MEMBER), *run.find(SUBNET_MEMBER)]
        return sorted((r.type, r.name, inputs(r)["role"]) for r in found)

    assert grants(new_range) == grants(plain)
    assert new_range.invokes == []  # no project number needed


def test_shared_vpc_subnet_grants_network_user_on_that_subnet_only(shared_subnet) -> None:
    members = {inputs(r)["member"]: inputs(r) for r in shared_subnet.find(SUBNET_MEMBER)}
    assert set(members) == {VPCACCESS_AGENT, GOOGLE_APIS_AGENT}
    for grant in members.values():
        assert grant["project"] == HOST
        assert grant["region"] == "europe-west1"
        assert grant["subnetwork"] == "prefect-connector"
        assert grant["role"] == "roles/compute.networkUser"
    # Nothing on the host project as a whole.
    assert [r for r in shared_subnet.find(PROJECT_MEMBER) if inputs(r)["project"] == HOST] == []
    assert shared_subnet.invokes == [(GET_PROJECT, {"projectId": PROJECT})]


def test_shared_vpc_connector_uses_the_hosts_subnet_after_the_grants(shared_subnet) -> None:
    connector = shared_subnet.one(CONNECTOR)
    assert inputs(connector)["subnet"] == {"name": "prefect-connector", "projectId": HOST}
    assert "network" not in inputs(connector)
    assert "ipCidrRange" not in inputs(connector)
    assert inputs(connector)["project"] == PROJECT  # the connector lives in the pool's project
    for grant in shared_subnet.find(SUBNET_MEMBER):
        assert grant.urn in connector.dependencies


def test_an_existing_connector_of_the_pools_project_creates_nothing() -> None:
    existing = f"projects/{PROJECT}/locations/europe-west1/connectors/data-vpc"
    run = run_pools(pool({"existing_connector": existing}))
    assert run.find(CONNECTOR) == []
    assert run.find(SUBNET_MEMBER) == []
    assert "vpcaccess.googleapis.com" not in {inputs(s)["service"] for s in run.find(SERVICE)}
    assert defaults(run)["vpc_connector_name"] == existing
    assert run.invokes == []


def test_a_host_projects_shared_connector_lets_cloud_runs_agent_use_it() -> None:
    run = run_pools(pool({"existing_connector": HOST_CONNECTOR}))
    assert run.find(CONNECTOR) == []
    grant = inputs(run.one(PROJECT_MEMBER, "ml-run-agent-vpcaccess-user"))
    assert grant == {"project": HOST, "role": "roles/vpcaccess.user", "member": RUN_AGENT}
    assert defaults(run)["vpc_connector_name"] == HOST_CONNECTOR


@pytest.mark.parametrize("network", [SHARED_SUBNET, {"existing_connector": HOST_CONNECTOR}])
def test_the_work_pool_waits_for_the_networks_grants(network: dict[str, Any]) -> None:
    """A failed grant stops registration: Prefect never points jobs at a connector that
    Cloud Run may not use yet."""
    run = registered(pool(network))
    grants = [*run.find(SUBNET_MEMBER), *run.find(PROJECT_MEMBER)]
    network_grants = [g for g in grants if inputs(g)["project"] == HOST]
    assert network_grants
    work_pool = run.one(WORK_POOL)
    for grant in network_grants:
        assert grant.urn in work_pool.dependencies, grant.name


def test_names_sizes_and_machine_are_the_users_to_choose() -> None:
    run = run_pools(
        pool(
            {
                "connector": {
                    **NEW_RANGE["connector"],
                    "name": "etl-connector",
                    "min_instances": 3,
                    "max_instances": 10,
                    "machine_type": "e2-standard-4",
                }
            }
        )
    )
    connector = inputs(run.one(CONNECTOR))
    assert (connector["name"], connector["minInstances"], connector["maxInstances"]) == (
        "etl-connector",
        3,
        10,
    )
    assert connector["machineType"] == "e2-standard-4"


def test_a_long_pool_name_gives_a_connector_name_google_accepts() -> None:
    run = run_pools(pool(NEW_RANGE, name="machine-learning-training-nightly"))
    name = inputs(run.one(CONNECTOR))["name"]
    assert len(name) <= 25
    assert name.startswith("machine-learning")
    assert name[-1] != "-"


def test_helper_naming_gives_a_fixed_connector_name() -> None:
    run = run_pools(pool(NEW_RANGE, naming="helper"))
    assert inputs(run.one(CONNECTOR))["name"] == "prefect-cloud-run-vpc"


def test_two_pools_in_one_region_cannot_name_one_connector() -> None:
    problems = config_problems(
        {
            "pushpools:pools": [
                pool(NEW_RANGE, "a", naming="helper"),
                pool(NEW_RANGE, "b", naming="helper"),
            ]
        }
    )
    assert any(
        p.startswith("pushpools:pools[1].gcp.network.connector.name:")
        and "'prefect-cloud-run-vpc'" in p
        for p in problems
    ), problems


@pytest.mark.parametrize("pool_type", ["cloud-run-v2:push", "cloud-run", "cloud-run-v2"])
def test_every_cloud_run_type_gets_the_connector_default(pool_type: str) -> None:
    run = run_pools(pool(NEW_RANGE) | {"type": pool_type})
    assert defaults(run)["vpc_connector_name"].endswith("/connectors/ml-vpc")


def test_a_pool_without_network_has_no_connector_default() -> None:
    run = run_pools(pool(None))
    assert "vpc_connector_name" not in defaults(run)
    assert run.find(CONNECTOR) == []


def test_the_plan_shows_the_connector_its_grants_and_the_template_default() -> None:
    result = plan_cli("--stack-file", str(NETWORK_STACK))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "+ gcp:vpcaccess/connector:Connector  run-private-vpc-connector" in text
    assert "ipCidrRange: 10.8.0.0/28" in text
    assert (
        "+ gcp:compute/subnetworkIAMMember:SubnetworkIAMMember  "
        "run-shared-subnet-vpcaccess-agent-network-user"
    ) in text
    assert "+ gcp:projects/iAMMember:IAMMember  run-shared-connector-run-agent-vpcaccess-user" in (
        text
    )
    assert (
        "template default vpc_connector_name: "
        "projects/acme-net-host/locations/europe-west1/connectors/shared-euw1"
    ) in text


def test_the_diff_shows_the_connector_and_each_new_grant_as_widening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")
    before = plan_document(run_pools(pool(None)))
    after = plan_document(run_pools(pool(SHARED_SUBNET)))
    diff = diff_plans(before, after)
    added = {(c.type, c.name) for c in diff.changes if c.action == "add"}
    assert (CONNECTOR, "ml-vpc-connector") in added
    assert (SERVICE, "ml-vpcaccess-api") in added
    access = [line for c in diff.access_changes for line in c.access]
    assert sorted(access) == sorted(
        f"widens: new grant roles/compute.networkUser to {agent} "
        f"on subnet prefect-connector of {HOST} in europe-west1"
        for agent in (VPCACCESS_AGENT, GOOGLE_APIS_AGENT)
    )
    # One more API enabled: the API wait runs once more (its `after` changes).
    assert "ml-api-propagation" in {c.name for c in diff.changes}
    text = render_text(diff)
    assert "ml-vpc-connector" in text
    assert "widens: new grant roles/compute.networkUser" in text
