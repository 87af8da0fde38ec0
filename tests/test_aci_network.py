"""ACI private networking: the network a pool's container groups run in, its plan and diff,
and the template default as a real Prefect server's `azure-container-instance` template
takes it. What the worker does with the subnet, and the right to join it, are in
tests/test_aci_worker_permissions.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pushpools.components.azure.settings import today_utc
from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.diff import diff_plans, render_text
from pushpools_tools.engine import ProgramRun
from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document
from pushpools_tools.plan import render_text as render_plan
from tests.harness import inputs, outputs, run_config, run_pools
from tests.prefect_server import PrefectServer

SUB = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
GROUP_ID = f"/subscriptions/{SUB}/resourceGroups/aci-rg"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
NAT = "azure-native:network:NatGateway"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
NETWORK_TYPES = {VNET, SUBNET, NAT, PUBLIC_IP}
EXISTING_SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/platform-network/providers/Microsoft.Network/"
    "virtualNetworks/hub/subnets/aci"
)


def aci_pool(
    name: str = "aci", pool_type: str = "azure-container-instance:push", **azure: Any
) -> dict[str, Any]:
    settings = {
        "subscription_id": SUB,
        "location": "westeurope",
        "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
        **azure,
    }
    pool = {"name": name, "type": pool_type, "azure": settings}
    if "naming" in settings:  # a pool-level key
        pool["naming"] = settings.pop("naming")
    return pool


def new_network(**create: Any) -> dict[str, Any]:
    return {"create": {"address_space": "10.20.0.0/16", **create}}


def defaults(run: ProgramRun, pool: str = "aci") -> dict[str, Any]:
    return run.outputs["pools"][pool]["template_defaults"]


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(aci_pool(network=new_network()), labels={"team": "data"})


def test_a_new_network_is_a_virtual_network_in_the_pools_group_where_configured(
    run: ProgramRun,
) -> None:
    vnet = inputs(run.one(VNET, "aci-vnet"))
    assert vnet["virtualNetworkName"] == "aci-vnet"
    assert vnet["resourceGroupName"] == "aci-rg"
    assert vnet["location"] == "westeurope"
    assert vnet["addressSpace"] == {"addressPrefixes": ["10.20.0.0/16"]}
    # Subnets are separate resources only: inline ones would fight them on every update.
    assert "subnets" not in vnet
    assert vnet["tags"] == {"managed-by": "pushpools", "prefect-work-pool": "aci", "team": "data"}


def test_the_subnet_is_delegated_to_container_groups_private_and_leaves_through_the_nat(
    run: ProgramRun,
) -> None:
    subnet = run.one(SUBNET, "aci-subnet")
    assert inputs(subnet)["virtualNetworkName"] == "aci-vnet"
    assert inputs(subnet)["addressPrefix"] == "10.20.0.0/24"  # the first /24 by default
    assert inputs(subnet)["delegations"] == [
        {"name": "container-groups", "serviceName": "Microsoft.ContainerInstance/containerGroups"}
    ]
    # No implicit way out, whatever the API version's default: only the NAT gateway.
    assert inputs(subnet)["defaultOutboundAccess"] is False
    nat = run.one(NAT, "aci-nat")
    assert inputs(subnet)["natGateway"] == {"id": outputs(nat)["id"]}
    public_ip = run.one(PUBLIC_IP, "aci-nat-ip")
    assert inputs(nat)["publicIpAddresses"] == [{"id": outputs(public_ip)["id"]}]
    assert inputs(nat)["sku"] == {"name": "Standard"}
    assert inputs(public_ip)["sku"] == {"name": "Standard", "tier": "Regional"}
    assert inputs(public_ip)["publicIPAllocationMethod"] == "Static"
    for resource in (nat, public_ip):
        assert inputs(resource)["resourceGroupName"] == "aci-rg"
        assert inputs(resource)["tags"]["prefect-work-pool"] == "aci"


def test_the_template_runs_container_groups_in_the_new_subnet(run: ProgramRun) -> None:
    subnet_id = outputs(run.one(SUBNET))["id"]
    assert subnet_id == (
        f"{GROUP_ID}/providers/Microsoft.Network/virtualNetworks/aci-vnet/subnets/aci-subnet"
    )
    assert defaults(run)["subnet_ids"] == [subnet_id]


def test_a_pool_without_network_has_none_and_no_subnet_default() -> None:
    plain = run_pools(aci_pool(role="least-privilege"))
    assert not {r.type for r in plain.resources} & NETWORK_TYPES
    assert "subnet_ids" not in defaults(plain)


def test_outbound_none_creates_no_nat_gateway_and_no_public_ip() -> None:
    private = run_pools(aci_pool(network=new_network(outbound="none")))
    assert private.find(NAT) == []
    assert private.find(PUBLIC_IP) == []
    subnet = inputs(private.one(SUBNET))
    assert "natGateway" not in subnet
    assert subnet["defaultOutboundAccess"] is False


def test_names_and_the_subnet_prefix_are_the_configured_ones_in_an_existing_group() -> None:
    names = {"virtual_network": "hub-prefect", "subnet": "flows", "nat_gateway": "egress"}
    run = run_pools(
        aci_pool(
            existing_resource_group="platform",
            naming="helper",
            network=new_network(subnet_prefix="10.20.8.0/22", names=names),
        )
    )
    assert inputs(run.one(VNET))["virtualNetworkName"] == "hub-prefect"
    assert inputs(run.one(VNET))["resourceGroupName"] == "platform"
    assert inputs(run.one(SUBNET))["subnetName"] == "flows"
    assert inputs(run.one(SUBNET))["addressPrefix"] == "10.20.8.0/22"
    assert inputs(run.one(NAT))["natGatewayName"] == "egress"
    assert inputs(run.one(PUBLIC_IP))["publicIpAddressName"] == "egress-ip"
    assert defaults(run)["subnet_ids"] == [
        f"/subscriptions/{SUB}/resourceGroups/platform/providers/Microsoft.Network/"
        "virtualNetworks/hub-prefect/subnets/flows"
    ]


def test_helper_naming_still_derives_network_names_from_the_pool() -> None:
    """Prefect's helper creates no network, so it has no names to copy: a second
    environment's pool in the same group gets its own network either way."""
    run = run_pools(aci_pool("etl", naming="helper", network=new_network()))
    assert inputs(run.one(VNET))["virtualNetworkName"] == "etl-vnet"
    assert inputs(run.one(VNET))["resourceGroupName"] == "prefect-aci-push-pool-rg"
    assert inputs(run.one(NAT))["natGatewayName"] == "etl-nat"


def test_an_existing_subnet_is_used_and_nothing_of_the_network_is_created() -> None:
    run = run_pools(aci_pool(network={"existing_subnet_id": EXISTING_SUBNET}))
    assert not {r.type for r in run.resources} & NETWORK_TYPES
    assert defaults(run)["subnet_ids"] == [EXISTING_SUBNET]


def test_the_plan_shows_the_network_and_the_join_grant() -> None:
    run = run_pools(aci_pool(role="least-privilege", network=new_network()))
    text = render_plan(run)
    for name in ("aci-vnet", "aci-subnet", "aci-nat", "aci-nat-ip", "aci-join-subnet"):
        assert name in text, name
    assert "subnet_ids" in text


def test_the_diff_of_adding_a_network_shows_the_resources_and_the_widening_join(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")

    def plan(**azure: Any) -> dict:
        return plan_document(
            run_config({"pushpools:pools": [aci_pool(role="least-privilege", **azure)]})
        )

    diff = diff_plans(plan(), plan(network=new_network()))
    added = {c.type for c in diff.changes if c.action == "add"}
    assert added >= NETWORK_TYPES
    assert [c.action for c in diff.changes if c.action != "add"] == []
    text = render_text(diff)
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in text
    assert "widens" in text
    assert "subnet_ids" in text
    # Another subnet range is an update of the subnet alone.
    moved = diff_plans(
        plan(network=new_network()), plan(network=new_network(subnet_prefix="10.20.1.0/24"))
    )
    assert {(c.type, c.action) for c in moved.changes} == {(SUBNET, "update")}


def test_the_servers_azure_container_instance_template_takes_the_subnet_default(
    prefect_server: PrefectServer, unique_name: str
) -> None:
    """Registration checks every default against the template the server serves for the
    worker type (`azure-container-instance`): `subnet_ids` must be one of its variables, of
    its type, or nothing is written."""
    run = run_pools(aci_pool(unique_name, "azure-container-instance", network=new_network()))
    block = BlockProvider().create(
        {
            "api_url": prefect_server.api_url,
            "type_slug": "azure-container-instance-credentials",
            "name": unique_name + "-creds",
            "data": {"client_id": "app", "tenant_id": "tenant", "client_secret": "s3cret"},
        }
    )
    props = {
        "api_url": prefect_server.api_url,
        "api_key": None,
        "auth_string": None,
        "name": unique_name,
        "type": "azure-container-instance",
        "description": None,
        "concurrency_limit": None,
        "paused": False,
        "template_defaults": defaults(run, unique_name),
        "credentials_variable": "aci_credentials",
        "block_document_id": (block.outs or {})["block_document_id"],
        "base_template": None,
        "adopt_existing": False,
    }
    state = WorkPoolProvider().create(props).outs or {}
    variables = state["base_job_template"]["variables"]["properties"]
    assert variables["subnet_ids"]["default"] == defaults(run, unique_name)["subnet_ids"]
    # The worker renders it into the container group's `subnetIds` (its ARM template has
    # the variable's placeholder in the job configuration).
    assert "{{ subnet_ids }}" in str(state["base_job_template"]["job_configuration"])


def test_the_example_stack_plans_both_kinds_of_network() -> None:
    from pushpools_tools.plan import run_stack
    from pushpools_tools.stackfile import load_stack
    from tests.harness import PROJECT_DIR

    path = PROJECT_DIR / "tests" / "stacks" / "Pulumi.aci-private.yaml"
    run = run_stack(PROJECT_DIR, load_stack(PROJECT_DIR, path))
    assert [inputs(v)["virtualNetworkName"] for v in run.find(VNET)] == ["staging-aci-vnet"]
    hub = defaults(run, "staging-aci-hub")["subnet_ids"][0]
    assert hub.endswith(
        "/resourceGroups/platform-network/providers/Microsoft.Network/"
        "virtualNetworks/hub/subnets/prefect-aci"
    )
    # Contributor on its own group does not reach the hub's group: one join, on the subnet.
    joins = [
        inputs(a)
        for a in run.find("azure-native:authorization:RoleAssignment")
        if a.name.endswith("-join-subnet")
    ]
    assert sorted(j["scope"] for j in joins) == sorted(
        [hub, defaults(run, "staging-aci")["subnet_ids"][0]]
    )
