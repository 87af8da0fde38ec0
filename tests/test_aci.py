"""The Azure Container Instances pool: what `pulumi up` creates, grants and hands to Prefect."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import jsonschema
import pulumi
import pytest
from prefect_azure.credentials import AzureContainerInstanceCredentials
from prefect_azure.workers.container_instance import AzureContainerWorker
from pulumi.runtime.mocks import MockMonitor

from pushpools.components.azure.pool import LEAST_PRIVILEGE_ACTIONS
from pushpools.components.azure.settings import today_utc
from pushpools_tools.engine import ProgramRun, is_secret, reveal
from pushpools_tools.plan import plan_document, render_text
from pushpools_tools.provider_mocks import ProviderMocks
from tests.harness import inputs, outputs, run_pools

SUB = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
OTHER_SUB = "9a8b7c6d-5e4f-4321-8765-0fedcba98765"
GROUP_ID = f"/subscriptions/{SUB}/resourceGroups/aci-rg"
CONTRIBUTOR = (
    f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    "b24988ac-6180-42a0-ab88-20f7382dd24c"
)
ACR_PULL = (
    f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    "7f951dda-4ed3-4680-a7ca-43fe172d538d"
)
IDENTITY_ID = (
    f"{GROUP_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aci-acr-identity"
)

RG = "azure-native:resources:ResourceGroup"
REGISTRY = "azure-native:containerregistry:Registry"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
DEFINITION = "azure-native:authorization:RoleDefinition"
PROVIDER = "pulumi:providers:azure-native"
APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"


def expiry(days: int = 180) -> str:
    return (today_utc() + timedelta(days=days)).isoformat()


def aci_pool(name: str = "aci", **azure: Any) -> dict[str, Any]:
    settings = {
        "subscription_id": SUB,
        "location": "westeurope",
        "client_secret_expires_on": expiry(),
        **azure,
    }
    return {"name": name, "type": "azure-container-instance:push", "azure": settings}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(aci_pool(), labels={"environment": "dev", "team": "data"})


def block(run: ProgramRun, pool: str = "aci") -> dict[str, Any]:
    return reveal(run.outputs["credentials_blocks"])[pool]


def defaults(run: ProgramRun, pool: str = "aci") -> dict[str, Any]:
    return run.outputs["pools"][pool]["template_defaults"]


def test_every_arm_resource_is_pinned_to_the_configured_subscription() -> None:
    run = run_pools(aci_pool(subscription_id=OTHER_SUB, role="least-privilege"))
    provider = run.one(PROVIDER, "aci-azure-native")
    assert inputs(provider)["subscriptionId"] == OTHER_SUB
    assert inputs(provider)["location"] == "westeurope"
    arm = {r.type for r in run.resources if r.type.startswith("azure-native:")}
    assert arm == {RG, REGISTRY, IDENTITY, ASSIGNMENT, DEFINITION}
    # The mock refuses ARM resources without an explicit provider and derives their IDs
    # from its subscription; every ID the pool passes on is in the configured one.
    ids = [inputs(a)["scope"] for a in run.find(ASSIGNMENT)]
    ids += [inputs(a)["roleDefinitionId"] for a in run.find(ASSIGNMENT)]
    ids += defaults(run)["identities"]
    assert len(ids) == 7
    assert all(i.startswith(f"/subscriptions/{OTHER_SUB}/") for i in ids), ids


def test_the_resource_group_is_created_where_configured_with_the_helper_name(
    run: ProgramRun,
) -> None:
    group = inputs(run.one(RG, "aci-rg"))
    assert group["resourceGroupName"] == "aci-rg"
    assert group["location"] == "westeurope"


def test_an_existing_resource_group_is_used_not_created() -> None:
    run = run_pools(aci_pool(existing_resource_group="platform-prefect"))
    assert run.find(RG) == []
    existing = f"/subscriptions/{SUB}/resourceGroups/platform-prefect"
    assert inputs(run.one(REGISTRY))["resourceGroupName"] == "platform-prefect"
    assert inputs(run.one(IDENTITY))["resourceGroupName"] == "platform-prefect"
    assert inputs(run.one(ASSIGNMENT, "aci-run-container-groups"))["scope"] == existing
    assert defaults(run)["resource_group_name"] == "platform-prefect"


def test_prefect_signs_in_as_an_app_registration_with_its_service_principal(
    run: ProgramRun,
) -> None:
    app = run.one(APP, "aci-app")
    assert inputs(app)["displayName"] == "aci-prefect"
    assert inputs(app)["preventDuplicateNames"] is True
    sp = run.one(SP, "aci-sp")
    assert inputs(sp)["clientId"] == outputs(app)["clientId"]


def test_the_client_secret_expires_on_the_configured_day() -> None:
    run = run_pools(aci_pool(client_secret_expires_on=expiry(400)))
    secret = inputs(run.one(PASSWORD, "aci-client-secret"))
    assert secret["endDate"] == f"{expiry(400)}T00:00:00Z"
    assert secret["applicationId"] == f"/applications/{outputs(run.one(APP))['objectId']}"


def test_a_new_secret_generation_rotates_the_secret_in_the_block(run: ProgramRun) -> None:
    rotated = run_pools(aci_pool(secret_generation=2))
    old = inputs(run.one(PASSWORD))
    new = inputs(rotated.one(PASSWORD))
    assert old["rotateWhenChanged"] == {"generation": "1"}
    assert new["rotateWhenChanged"] == {"generation": "2"}
    assert block(rotated)["data"]["client_secret"] != block(run)["data"]["client_secret"]
    assert block(rotated)["data"]["client_secret"] == outputs(rotated.one(PASSWORD))["value"]


def test_by_default_the_app_is_contributor_on_the_resource_group_only(run: ProgramRun) -> None:
    grant = inputs(run.one(ASSIGNMENT, "aci-run-container-groups"))
    assert grant["roleDefinitionId"] == CONTRIBUTOR
    assert grant["scope"] == GROUP_ID
    assert grant["principalId"] == outputs(run.one(SP))["objectId"]
    assert grant["principalType"] == "ServicePrincipal"
    assert run.find(DEFINITION) == []


def test_least_privilege_grants_a_custom_role_limited_to_container_groups_in_the_group() -> None:
    run = run_pools(aci_pool(role="least-privilege"))
    role = run.one(DEFINITION, "aci-aci-runner-role")
    definition = inputs(role)
    assert definition["scope"] == GROUP_ID
    assert definition["assignableScopes"] == [GROUP_ID]
    assert definition["roleType"] == "CustomRole"
    assert definition["permissions"] == [
        {
            "actions": [
                "Microsoft.Resources/deployments/*",
                "Microsoft.ContainerInstance/containerGroups/write",
                "Microsoft.ContainerInstance/containerGroups/read",
                "Microsoft.ContainerInstance/containerGroups/containers/logs/read",
                "Microsoft.ContainerInstance/containerGroups/stop/action",
                "Microsoft.ContainerInstance/containerGroups/delete",
            ],
            "notActions": [],
        }
    ]
    assert list(LEAST_PRIVILEGE_ACTIONS) == definition["permissions"][0]["actions"]
    grant = inputs(run.one(ASSIGNMENT, "aci-run-container-groups"))
    assert grant["roleDefinitionId"] == (
        f"{GROUP_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        + definition["roleDefinitionId"]
    )
    assert grant["scope"] == GROUP_ID
    assert all(inputs(a)["roleDefinitionId"] != CONTRIBUTOR for a in run.find(ASSIGNMENT))


def test_least_privilege_may_assign_the_pools_own_identity_only() -> None:
    run = run_pools(aci_pool(role="least-privilege"))
    user = inputs(run.one(DEFINITION, "aci-aci-identity-user-role"))
    assert user["permissions"] == [
        {
            "actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"],
            "notActions": [],
        }
    ]
    assert user["assignableScopes"] == [GROUP_ID]
    grant = inputs(run.one(ASSIGNMENT, "aci-assign-identity"))
    assert grant["scope"] == IDENTITY_ID
    assert grant["principalId"] == outputs(run.one(SP))["objectId"]
    assert grant["roleDefinitionId"].endswith("/" + user["roleDefinitionId"])
    # The group-wide role assigns no identity at all.
    runner = inputs(run.one(DEFINITION, "aci-aci-runner-role"))["permissions"][0]["actions"]
    assert not [a for a in runner if "ManagedIdentity" in a or a.endswith("/*/")]


def test_a_new_identity_gets_a_new_assign_assignment_created_first() -> None:
    """The identity-assign assignment's name comes from principal and scope: a new identity
    is a new assignment, created before the old one is deleted, never a clash of names."""
    before = run_pools(aci_pool(role="least-privilege"))
    after = run_pools(aci_pool(role="least-privilege", names={"identity": "aci-pull-identity"}))
    old, new = (inputs(r.one(ASSIGNMENT, "aci-assign-identity")) for r in (before, after))
    assert old["scope"] != new["scope"]
    assert old["roleAssignmentName"] != new["roleAssignmentName"]
    assert str(uuid.UUID(new["roleAssignmentName"])) == new["roleAssignmentName"]


def test_the_registry_is_basic_with_no_admin_user(run: ProgramRun) -> None:
    registry = inputs(run.one(REGISTRY, "aci-registry"))
    assert registry["sku"] == {"name": "Basic"}
    assert registry["adminUserEnabled"] is False
    assert registry["resourceGroupName"] == "aci-rg"
    assert registry["location"] == "westeurope"


def test_the_default_registry_name_is_valid_and_stable_across_runs(run: ProgramRun) -> None:
    name = inputs(run.one(REGISTRY))["registryName"]
    # The pool's name without its dashes, and a hash of subscription, group and pool.
    assert re.fullmatch(r"aci[0-9a-f]{10}", name)
    again = run_pools(aci_pool(), labels={"environment": "dev", "team": "data"})
    assert inputs(again.one(REGISTRY))["registryName"] == name
    elsewhere = run_pools(aci_pool(subscription_id=OTHER_SUB))
    other_pool = run_pools(aci_pool(name="aci-two"))
    assert inputs(elsewhere.one(REGISTRY))["registryName"] != name
    assert inputs(other_pool.one(REGISTRY))["registryName"] != name


def test_helper_naming_gives_the_helpers_names_and_a_stable_registry() -> None:
    run = run_pools({**aci_pool(), "naming": "helper"})
    assert inputs(run.one(RG))["resourceGroupName"] == "prefect-aci-push-pool-rg"
    assert inputs(run.one(APP))["displayName"] == "prefect-aci-push-pool-app"
    assert inputs(run.one(IDENTITY))["resourceName"] == "prefect-acr-identity"
    # The helper's registry name ends in a timestamp; ours is stable.
    assert re.fullmatch(r"prefect[0-9a-f]{10}", inputs(run.one(REGISTRY))["registryName"])


def test_a_registry_name_can_be_given() -> None:
    run = run_pools(aci_pool(names={"registry": "acmeflows01"}))
    assert inputs(run.one(REGISTRY))["registryName"] == "acmeflows01"
    assert run.outputs["pools"]["aci"]["image_namespace"] == "acmeflows01.azurecr.io"


def test_the_identity_may_pull_from_this_registry_only(run: ProgramRun) -> None:
    identity = run.one(IDENTITY, "aci-acr-identity")
    assert inputs(identity)["resourceName"] == "aci-acr-identity"
    pull = inputs(run.one(ASSIGNMENT, "aci-acr-pull"))
    registry_name = inputs(run.one(REGISTRY))["registryName"]
    assert pull["roleDefinitionId"] == ACR_PULL
    assert pull["scope"] == (
        f"{GROUP_ID}/providers/Microsoft.ContainerRegistry/registries/{registry_name}"
    )
    assert pull["principalId"] == outputs(identity)["principalId"]
    assert pull["principalType"] == "ServicePrincipal"
    # The only other grant is the app's; nothing else gets AcrPull.
    assert [inputs(a)["roleDefinitionId"] for a in run.find(ASSIGNMENT)].count(ACR_PULL) == 1


class _OptionsMonitor(MockMonitor):
    """Pulumi's mock monitor, keeping the option that decides the order of a replacement."""

    def __init__(self, mocks: ProviderMocks) -> None:
        super().__init__(mocks)
        self.delete_before_replace: dict[str, bool] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.delete_before_replace[request.name] = request.deleteBeforeReplace
        return super().RegisterResource(request)


def _delete_before_replace(**azure: Any) -> dict[str, bool]:
    """Whether each resource of an ACI pool is deleted before its replacement is created."""
    from pushpools.components.azure.pool import AciPushPool

    mocks = ProviderMocks()
    monitor = _OptionsMonitor(mocks)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(mocks, "pushpools", "test", False, monitor=monitor)
        settings = aci_pool(**azure)["azure"]
        pulumi.runtime.test(lambda: AciPushPool("aci", settings).template_defaults)()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return monitor.delete_before_replace


def test_a_new_identity_replaces_its_acr_pull_assignment_old_one_first() -> None:
    """A new identity (here: renamed) has a new principal, so its AcrPull assignment is
    replaced, under the same name; Azure refuses a second assignment of that name while the
    first exists, so the old one must be deleted first."""
    before = run_pools(aci_pool())
    after = run_pools(aci_pool(names={"identity": "aci-pull-identity"}))
    old, new = (inputs(r.one(ASSIGNMENT, "aci-acr-pull")) for r in (before, after))
    assert old["principalId"] != new["principalId"]
    assert old["roleAssignmentName"] == new["roleAssignmentName"]
    assert _delete_before_replace()["aci-acr-pull"] is True


def test_role_assignment_names_are_guids_that_do_not_change_between_runs(
    run: ProgramRun,
) -> None:
    names = sorted(inputs(a)["roleAssignmentName"] for a in run.find(ASSIGNMENT))
    for name in names:
        assert str(uuid.UUID(name)) == name
    again = run_pools(aci_pool())
    assert sorted(inputs(a)["roleAssignmentName"] for a in again.find(ASSIGNMENT)) == names


def test_every_taggable_resource_carries_the_stack_and_pool_tags(run: ProgramRun) -> None:
    expected = {
        "environment": "dev",
        "team": "data",
        "managed-by": "pushpools",
        "prefect-work-pool": "aci",
    }
    for type_ in (RG, REGISTRY, IDENTITY):
        assert inputs(run.one(type_))["tags"] == expected, type_
    # Entra objects have no key/value tags: their notes say the same.
    for type_ in (APP, SP):
        notes = inputs(run.one(type_))["notes"]
        assert all(f"{k}: {v}" in notes for k, v in expected.items()), type_


def test_template_defaults_point_the_pool_at_the_group_registry_and_identity(
    run: ProgramRun,
) -> None:
    login_server = outputs(run.one(REGISTRY))["loginServer"]
    assert defaults(run) == {
        "resource_group_name": "aci-rg",
        "subscription_id": SUB,
        "image_registry": {"registry_url": login_server, "identity": IDENTITY_ID},
        "identities": [IDENTITY_ID],
    }
    assert run.outputs["pools"]["aci"]["image_namespace"] == login_server


def test_template_defaults_fit_the_aci_job_template_variables(run: ProgramRun) -> None:
    variables = AzureContainerWorker.get_default_base_job_template()["variables"]
    for name, value in defaults(run).items():
        schema = {**variables["properties"][name], "definitions": variables["definitions"]}
        jsonschema.validate(value, schema)


def test_the_block_holds_the_app_credentials_as_a_secret(run: ProgramRun) -> None:
    assert is_secret(run.outputs["credentials_blocks"])
    summary = run.outputs["pools"]["aci"]["credentials_block"]
    assert summary == {
        "type_slug": "azure-container-instance-credentials",
        "name": "aci-push-pool-credentials",
        "variable": "aci_credentials",
    }
    assert block(run) == {
        "type_slug": "azure-container-instance-credentials",
        "name": "aci-push-pool-credentials",
        "data": {
            "client_id": outputs(run.one(APP))["clientId"],
            "tenant_id": outputs(run.one(SP))["applicationTenantId"],
            "client_secret": outputs(run.one(PASSWORD))["value"],
        },
    }


def test_prefect_azure_accepts_the_block_payload(run: ProgramRun) -> None:
    data = block(run)["data"]
    credentials = AzureContainerInstanceCredentials(**data)
    assert credentials.client_id == data["client_id"]
    assert credentials.tenant_id == data["tenant_id"]
    assert credentials.client_secret is not None
    assert credentials.client_secret.get_secret_value() == data["client_secret"]


def test_the_client_secret_is_secret_wherever_it_appears(run: ProgramRun) -> None:
    password = run.one(PASSWORD)
    # The provider schema marks it (additionalSecretOutputs); the engine applies that.
    assert is_secret(password.outputs["value"])
    value = outputs(password)["value"]
    assert value not in json.dumps(run.outputs["pools"])
    document = plan_document(run)
    assert value not in json.dumps(document)
    assert value not in render_text(run)
    assert document["outputs"]["credentials_blocks"] == "[secret]"
