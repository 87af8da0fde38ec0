"""The least-privilege ACI role against what Prefect's own ACI worker does with it.

Prefect's `AzureContainerWorker` (prefect-azure, the code Prefect Cloud's push runner
runs) is driven through whole flow runs with the pool's own template defaults and block.
Its Azure SDK clients are the real ones; only the HTTP transport is replaced, by a fake
Azure Resource Manager that answers as ARM documents and records every request. Each
request becomes the RBAC action ARM checks for it (`<namespace>/<type>/.../read|write|
delete`, `.../<action>/action` for a POST), at the resource it names; the deployment of
the worker's template adds what ARM checks for its content: write on each resource it
deploys, and `assign/action` on each user-assigned identity a resource runs as.

Every action the worker needs must be granted by the pool's assignments at its scope, and
every action the pool's custom roles grant must be one the worker needs.
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from harness import inputs, run_pools
from prefect.client.schemas.objects import FlowRun
from prefect_azure.credentials import AzureContainerInstanceCredentials
from prefect_azure.workers import container_instance
from prefect_azure.workers.container_instance import (
    AzureContainerJobConfiguration,
    AzureContainerWorker,
)

from pushpools.components.azure.settings import today_utc
from pushpools_tools.engine import ProgramRun, reveal

SUB = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
DEFINITION = "azure-native:authorization:RoleDefinition"
ARM = "https://management.azure.com"


@dataclass(frozen=True)
class Needed:
    """An RBAC action ARM checks, at the resource it checks it on."""

    action: str
    scope: str
    why: str


def rbac_action(method: str, path: str) -> tuple[str, str]:
    """(action, scope) of an ARM request: the provider's types, then the verb."""
    match = re.match(
        r"^(/subscriptions/[^/]+/resourcegroups/[^/]+)/providers/([^/]+)/(.*)$", path, re.I
    )
    assert match, f"not a resource-group-level ARM request: {method} {path}"
    group, namespace, rest = match.groups()
    parts = rest.split("/")
    types = parts[0::2]
    named = len(parts) % 2 == 0
    scope = f"{group}/providers/{namespace}/" + "/".join(parts[: len(parts) - (0 if named else 1)])
    if method == "POST":
        assert not named, path
        return f"{namespace}/{'/'.join(types)}/action", scope
    verb = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}[method]
    return f"{namespace}/{'/'.join(types)}/{verb}", scope


class FakeArm:
    """Answers the worker's requests as ARM does, and records what ARM would authorize."""

    def __init__(self) -> None:
        self.needed: list[Needed] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.deployed: list[dict[str, Any]] = []
        """Each container group resource the worker's deployments carried."""

    def send(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], Any]:
        url = url.split("?", 1)[0]
        assert url.startswith(ARM), url
        path = url.removeprefix(ARM)
        action, scope = rbac_action(method, path)
        self.needed.append(Needed(action, scope, f"{method} {path}"))
        lowered = path.lower()
        if "/microsoft.resources/deployments/" in lowered:
            return self._deployment(method, path, body)
        if lowered.endswith("/logs"):
            return 200, {}, {"content": "2026-01-01T00:00:00Z hello from the flow\n"}
        if lowered.endswith("/stop"):
            return 204, {}, None
        if method == "DELETE":
            return 200, {}, self.groups.pop(path.lower(), {})
        return 200, {}, self.groups[path.lower()]

    def _deployment(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        deployment = path.split("/operationStatuses/")[0]
        if "/operationStatuses/" in path:
            return 200, {}, {"status": "Succeeded"}
        if method == "GET":
            return 200, {}, {"id": deployment, "properties": {"provisioningState": "Succeeded"}}
        self._deploy(deployment, json.loads(body)["properties"])
        status = f"{ARM}{deployment}/operationStatuses/08584?api-version=2024-03-01"
        headers = {"Azure-AsyncOperation": status, "Retry-After": "0"}
        return 201, headers, {"id": deployment, "properties": {"provisioningState": "Accepted"}}

    def _deploy(self, deployment: str, properties: dict[str, Any]) -> None:
        """What ARM authorizes for a template's content, and the resources it makes."""
        group = deployment.split("/providers/")[0]
        parameters = {k: v["value"] for k, v in properties.get("parameters", {}).items()}
        for resource in properties["template"]["resources"]:
            name = re.sub(
                r"^\[parameters\('(\w+)'\)\]$", lambda m: parameters[m.group(1)], resource["name"]
            )
            resource_id = f"{group}/providers/{resource['type']}/{name}"
            why = f"the deployment creates {resource['type']} {name}"
            self.needed.append(Needed(f"{resource['type']}/write", resource_id, why))
            self.deployed.append(resource)
            # ARM's linked-resource check: placing a resource in a subnet needs the right
            # to join that subnet, checked on the subnet.
            for subnet in resource["properties"].get("subnetIds", []):
                self.needed.append(
                    Needed(
                        "Microsoft.Network/virtualNetworks/subnets/join/action",
                        subnet["id"],
                        f"{name} is placed in {subnet['id']}",
                    )
                )
            identities = resource.get("identity", {}).get("userAssignedIdentities", {})
            for identity in identities:
                self.needed.append(
                    Needed(
                        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
                        identity,
                        f"{name} runs as {identity}",
                    )
                )
            container = resource["properties"]["containers"][0]
            self.groups[resource_id.lower()] = {
                "id": resource_id,
                "name": name,
                "location": "westeurope",
                "properties": {
                    "provisioningState": "Succeeded",
                    "osType": "Linux",
                    "containers": [
                        {
                            "name": container["name"],
                            "properties": {
                                "image": container["properties"]["image"],
                                "resources": {"requests": {"cpu": 1, "memoryInGB": 1}},
                                "instanceView": {
                                    "currentState": {"state": "Terminated", "exitCode": 0}
                                },
                            },
                        }
                    ],
                },
            }


class _Token:
    """A signed-in credential, without Entra ID."""

    def get_token(self, *_scopes: str, **_kwargs: Any) -> AccessToken:
        return AccessToken("token", 4102444800)

    def get_token_info(self, *_scopes: str, **_kwargs: Any) -> AccessTokenInfo:
        return AccessTokenInfo("token", 4102444800)


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> FakeArm:
    fake = FakeArm()

    def request(_session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        # Where azure-core's RequestsTransport sends every request of the SDK clients.
        status, headers, body = fake.send(method, url, kwargs.get("data"))
        response = requests.Response()
        response.status_code = status
        response.headers.update({"Content-Type": "application/json", **headers})
        response._content = b"" if body is None else json.dumps(body).encode()
        response.url = url
        response.raw = io.BytesIO(response._content)
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    monkeypatch.setattr(AzureContainerInstanceCredentials, "_create_credential", lambda _: _Token())

    class _Flow:
        name = "nightly-etl"

    class _Prefect:
        async def read_flow(self, _flow_id: Any) -> _Flow:
            return _Flow()

    monkeypatch.setattr(container_instance, "get_client", lambda: _Prefect())
    monkeypatch.setattr(container_instance.time, "sleep", lambda _s: None)
    return fake


@pytest.fixture(scope="module")
def pool() -> ProgramRun:
    return run_pools(
        {
            "name": "aci",
            "type": "azure-container-instance:push",
            "azure": {
                "subscription_id": SUB,
                "location": "westeurope",
                "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
                "role": "least-privilege",
            },
        }
    )


class _NoPrefectApi:
    """Stands in for a Prefect client that nothing calls."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the Prefect API was called: {name}")


async def _configuration(pool: ProgramRun, **values: Any) -> AzureContainerJobConfiguration:
    """The worker's job configuration for the pool: its template defaults and block."""
    defaults = pool.outputs["pools"]["aci"]["template_defaults"]
    block = reveal(pool.outputs["credentials_blocks"])["aci"]["data"]
    template = AzureContainerWorker.get_default_base_job_template()
    configuration = await AzureContainerJobConfiguration.from_template_and_values(
        template,
        {
            **defaults,
            "aci_credentials": block,
            "image": f"{defaults['image_registry']['registry_url']}/flows:1",
            "task_watch_poll_interval": 0.01,
            **values,
        },
        # The block's data is given inline, so no reference needs a Prefect API.
        client=_NoPrefectApi(),  # type: ignore[arg-type]
    )
    flow_run = FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), name="brave-otter")
    configuration.prepare_for_flow_run(flow_run)
    return configuration


def _run_flows(pool: ProgramRun) -> None:
    async def scenarios() -> None:
        worker = AzureContainerWorker(work_pool_name="aci")
        flow_run = FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), name="brave-otter")
        # A run with its logs streamed, its group deleted at the end.
        await worker.run(flow_run, await _configuration(pool, stream_output=True))
        # A run whose group is kept (stopped).
        kept = await _configuration(pool)
        kept.keep_container_group = True
        await worker.run(flow_run, kept)
        # Cancelling runs, either way.
        for keep in (False, True):
            configuration = await _configuration(pool)
            configuration.keep_container_group = keep
            await worker.kill_infrastructure(f"{flow_run.id}:group-{keep}", configuration)

    asyncio.run(scenarios())


def _grants(pool: ProgramRun) -> list[tuple[str, list[str]]]:
    """(scope, allowed actions) of each of the pool's assignments to Prefect's app."""
    definitions = {
        inputs(d)["roleDefinitionId"]: inputs(d)["permissions"][0]["actions"]
        for d in pool.find(DEFINITION)
    }
    app = pool.one("azuread:index/servicePrincipal:ServicePrincipal").outputs["objectId"]
    grants = []
    for assignment in pool.find(ASSIGNMENT):
        granted = inputs(assignment)
        if granted["principalId"] != app:
            continue
        definition = granted["roleDefinitionId"].rsplit("/", 1)[-1]
        # Built-in Contributor: every action (bar authorization writes, which no run makes).
        contributor = ["*"] if definition == "b24988ac-6180-42a0-ab88-20f7382dd24c" else None
        grants.append((granted["scope"], contributor or definitions[definition]))
    return grants


def _allows(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _within(scope: str, resource: str) -> bool:
    return resource.lower() == scope.lower() or resource.lower().startswith(scope.lower() + "/")


def test_the_workers_every_call_is_granted_and_nothing_else(arm: FakeArm, pool: ProgramRun) -> None:
    _run_flows(pool)
    needed = arm.needed
    called = {n.action.lower() for n in needed}
    # The runs did what the worker does: deploy, watch, stream logs, stop and delete.
    assert {
        "microsoft.resources/deployments/write",
        "microsoft.resources/deployments/operationstatuses/read",
        "microsoft.resources/deployments/read",
        "microsoft.containerinstance/containergroups/write",
        "microsoft.containerinstance/containergroups/read",
        "microsoft.containerinstance/containergroups/containers/logs/read",
        "microsoft.containerinstance/containergroups/stop/action",
        "microsoft.containerinstance/containergroups/delete",
        "microsoft.managedidentity/userassignedidentities/assign/action",
    } == called
    grants = _grants(pool)
    assert _missing(needed, grants) == []
    assert _unused(needed, grants) == []


def _missing(needed: list[Needed], grants: list[tuple[str, list[str]]]) -> list[Needed]:
    """What the worker needed that no grant allows at its scope."""
    return [
        n
        for n in needed
        if not any(
            _within(scope, n.scope) and any(_allows(a, n.action) for a in actions)
            for scope, actions in grants
        )
    ]


def _unused(needed: list[Needed], grants: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """What a grant allows that the worker never needed at that scope."""
    return [
        (scope, action)
        for scope, actions in grants
        for action in actions
        if not any(_within(scope, n.scope) and _allows(action, n.action) for n in needed)
    ]


def test_the_pools_identity_is_the_only_one_the_app_may_assign(pool: ProgramRun) -> None:
    identity = pool.outputs["pools"]["aci"]["template_defaults"]["identities"][0]
    other = identity.rsplit("/", 1)[0] + "/someone-elses-identity"
    assign = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
    may_assign = [
        scope for scope, actions in _grants(pool) if any(_allows(a, assign) for a in actions)
    ]
    assert may_assign == [identity]
    assert not any(_within(scope, other) for scope in may_assign)
    # Nor may it exec into, attach to, or restart container groups.
    for forbidden in (
        "Microsoft.ContainerInstance/containerGroups/containers/exec/action",
        "Microsoft.ContainerInstance/containerGroups/containers/attach/action",
        "Microsoft.ContainerInstance/containerGroups/restart/action",
    ):
        assert not any(_allows(a, forbidden) for _, actions in _grants(pool) for a in actions)


# Private networking: the pool's subnet as the template's default `subnet_ids`.
JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
NETWORK_RG = f"/subscriptions/{SUB}/resourceGroups/platform-network"
EXISTING_SUBNET = f"{NETWORK_RG}/providers/Microsoft.Network/virtualNetworks/hub/subnets/aci"


def _network_pool(role: str, network: dict[str, Any]) -> ProgramRun:
    return run_pools(
        {
            "name": "aci",
            "type": "azure-container-instance:push",
            "azure": {
                "subscription_id": SUB,
                "location": "westeurope",
                "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
                "role": role,
                "network": network,
            },
        }
    )


@pytest.fixture(scope="module")
def network_pool() -> ProgramRun:
    return _network_pool("least-privilege", {"create": {"address_space": "10.20.0.0/16"}})


def test_in_a_new_network_every_call_is_granted_and_the_join_is_the_only_addition(
    arm: FakeArm, pool: ProgramRun, network_pool: ProgramRun
) -> None:
    _run_flows(network_pool)
    subnet = network_pool.outputs["pools"]["aci"]["template_defaults"]["subnet_ids"][0]
    assert subnet.endswith(
        "/providers/Microsoft.Network/virtualNetworks/aci-vnet/subnets/aci-subnet"
    )
    # Every container group the worker deployed was placed in the pool's subnet.
    assert arm.deployed
    assert all(r["properties"]["subnetIds"] == [{"id": subnet}] for r in arm.deployed)
    grants = _grants(network_pool)
    assert _missing(arm.needed, grants) == []
    assert _unused(arm.needed, grants) == []
    # Compared with the same pool without a network: one grant more, joining this subnet.
    added = [g for g in grants if g not in _grants(pool)]
    assert added == [(subnet, [JOIN])]


def test_without_the_join_grant_the_worker_could_not_place_a_group_in_the_subnet(
    arm: FakeArm, network_pool: ProgramRun
) -> None:
    _run_flows(network_pool)
    subnet = network_pool.outputs["pools"]["aci"]["template_defaults"]["subnet_ids"][0]
    without_join = [
        (scope, actions) for scope, actions in _grants(network_pool) if JOIN not in actions
    ]
    missing = {(n.action, n.scope) for n in _missing(arm.needed, without_join)}
    assert missing == {(JOIN, subnet)}


@pytest.mark.parametrize("role", ["least-privilege", "contributor"])
def test_an_existing_subnet_in_another_group_is_joined_by_a_grant_on_that_subnet_only(
    arm: FakeArm, role: str
) -> None:
    run = _network_pool(role, {"existing_subnet_id": EXISTING_SUBNET})
    assert run.outputs["pools"]["aci"]["template_defaults"]["subnet_ids"] == [EXISTING_SUBNET]
    _run_flows(run)
    assert all(r["properties"]["subnetIds"] == [{"id": EXISTING_SUBNET}] for r in arm.deployed)
    grants = _grants(run)
    # Contributor on the pool's group does not reach a subnet in another group.
    assert (EXISTING_SUBNET, [JOIN]) in grants
    assert _missing(arm.needed, grants) == []
    if role == "least-privilege":
        assert _unused(arm.needed, grants) == []
    # The join role is defined where the subnet is, and assignable nowhere else.
    join_role = next(
        inputs(d) for d in run.find(DEFINITION) if inputs(d)["permissions"][0]["actions"] == [JOIN]
    )
    assert join_role["assignableScopes"] == [NETWORK_RG]


def test_with_contributor_a_subnet_in_the_pools_own_group_needs_no_further_grant(
    arm: FakeArm,
) -> None:
    run = _network_pool("contributor", {"create": {"address_space": "10.20.0.0/16"}})
    _run_flows(run)
    grants = _grants(run)
    assert not any(JOIN in actions for _, actions in grants)
    assert run.find(DEFINITION) == []
    assert _missing(arm.needed, grants) == []
