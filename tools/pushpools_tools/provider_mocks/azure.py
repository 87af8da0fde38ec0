"""What the Azure Native provider returns for the resources pushpools declares.

Resource IDs are ARM IDs in the pool's subscription, which comes from the explicit
provider a resource names. A resource with no explicit provider would land in whatever
subscription the ambient login defaults to (the bug of Prefect's helper), so this mock
refuses it, as it refuses names Azure itself would refuse.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from pushpools_tools.provider_mocks import stable_id

# The directory tenant the simulated logins belong to.
MOCK_TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://pushpools.invalid/tenant"))

_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
_REGISTRY_NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")

# provider ID -> its inputs (subscriptionId, location); IDs are stable, so runs can share it.
_PROVIDERS: dict[str, dict[str, Any]] = {}


class AzureRefusalError(Exception):
    """What Azure Resource Manager would answer with an error."""


def _guid(*parts: str) -> str:
    return str(uuid.UUID(stable_id(*parts, length=32)))


def _provider(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    id_ = _guid("provider", args.name, str(sorted(args.inputs.items())))
    _PROVIDERS[id_] = dict(args.inputs)
    return id_, dict(args.inputs)


def _subscription(args: MockResourceArgs) -> str:
    provider_id = (args.provider or "").rpartition("::")[2]
    subscription = _PROVIDERS.get(provider_id, {}).get("subscriptionId")
    if not subscription:
        raise AzureRefusalError(
            f"{args.typ} {args.name!r} has no explicit azure-native provider with a "
            "subscriptionId: it would land in the login's default subscription"
        )
    return subscription


def _group_id(args: MockResourceArgs, group: str) -> str:
    return f"/subscriptions/{_subscription(args)}/resourceGroups/{group}"


def _resource_group(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    name = args.inputs["resourceGroupName"]
    id_ = _group_id(args, name)
    return id_, {
        **args.inputs,
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "properties": {"provisioningState": "Succeeded"},
        "azureApiVersion": "2024-03-01",
    }


def _registry(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    name = i["registryName"]
    if not _REGISTRY_NAME.match(name):
        raise AzureRefusalError(f"registry name {name!r}: 5-50 alphanumeric characters only")
    id_ = (
        f"{_group_id(args, i['resourceGroupName'])}"
        f"/providers/Microsoft.ContainerRegistry/registries/{name}"
    )
    return id_, {
        **i,
        "name": name,
        "loginServer": f"{name.lower()}.azurecr.io",
        "type": "Microsoft.ContainerRegistry/registries",
        "provisioningState": "Succeeded",
        "creationDate": "2026-01-01T00:00:00Z",
    }


def _identity(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    name = i["resourceName"]
    id_ = (
        f"{_group_id(args, i['resourceGroupName'])}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    return id_, {
        **i,
        "name": name,
        "principalId": _guid("identity-principal", id_),
        "clientId": _guid("identity-client", id_),
        "tenantId": MOCK_TENANT_ID,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
    }


def _role_definition(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    guid = i.get("roleDefinitionId", "")
    if not _GUID.match(guid):
        raise AzureRefusalError(f"role definition ID {guid!r} is not a GUID")
    _subscription(args)
    id_ = f"{i['scope']}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    return id_, {
        **i,
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
    }


def _role_assignment(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    guid = i.get("roleAssignmentName", "")
    if not _GUID.match(guid):
        raise AzureRefusalError(f"role assignment name {guid!r} is not a GUID")
    subscription = _subscription(args)
    # The subscription itself is a scope too (the CI identities are assigned there).
    scope = i["scope"]
    if scope != f"/subscriptions/{subscription}" and not scope.startswith(
        f"/subscriptions/{subscription}/"
    ):
        raise AzureRefusalError(f"scope {i['scope']!r} is outside subscription {subscription}")
    id_ = f"{i['scope']}/providers/Microsoft.Authorization/roleAssignments/{guid}"
    return id_, {
        **i,
        "name": guid,
        "type": "Microsoft.Authorization/roleAssignments",
        "createdOn": "2026-01-01T00:00:00Z",
    }


# Private networking (components/azure/network.py): ARM IDs under Microsoft.Network.
def _network_resource(kind: str, name_key: str) -> Any:
    def mock(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        i = args.inputs
        name = i[name_key]
        id_ = f"{_group_id(args, i['resourceGroupName'])}/providers/Microsoft.Network/{kind}/{name}"
        state = {**i, "id": id_, "name": name, "type": f"Microsoft.Network/{kind}"}
        if kind == "publicIPAddresses":  # a static address from the documentation range
            state["ipAddress"] = f"203.0.113.{int(stable_id(id_, length=4), 16) % 254 + 1}"
        return id_, {**state, "provisioningState": "Succeeded", "etag": f'W/"{_guid(id_)}"'}

    return mock


def _subnet(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    network_id = (
        f"{_group_id(args, i['resourceGroupName'])}"
        f"/providers/Microsoft.Network/virtualNetworks/{i['virtualNetworkName']}"
    )
    # pushpools delegates its subnets to container groups only.
    for delegation in i.get("delegations", []):
        if delegation.get("serviceName") != "Microsoft.ContainerInstance/containerGroups":
            raise AzureRefusalError(f"unexpected subnet delegation {delegation!r}")
    id_ = f"{network_id}/subnets/{i['subnetName']}"
    return id_, {
        **i,
        "id": id_,
        "name": i["subnetName"],
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "provisioningState": "Succeeded",
    }


RESOURCES = {
    "pulumi:providers:azure-native": _provider,
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:authorization:RoleDefinition": _role_definition,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:network:PublicIPAddress": _network_resource(
        "publicIPAddresses", "publicIpAddressName"
    ),
    "azure-native:network:NatGateway": _network_resource("natGateways", "natGatewayName"),
    "azure-native:network:VirtualNetwork": _network_resource(
        "virtualNetworks", "virtualNetworkName"
    ),
    "azure-native:network:Subnet": _subnet,
}

CALLS: dict[str, Any] = {}
