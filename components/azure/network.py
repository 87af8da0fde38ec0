"""Private networking of an ACI pool: the subnet its container groups run in.

A new network is a virtual network in the pool's resource group with one subnet delegated to
`Microsoft.ContainerInstance/containerGroups` and, by default, a NAT gateway with a static
public IP: Azure documents a NAT gateway as the only supported outbound path for container
groups in a virtual network, and flow runs must reach Prefect's API and their image registry.
The subnet is private (`defaultOutboundAccess: false`) whatever the API version's default, so
nothing leaves except through the gateway.

The subnet is a separate `Subnet` resource and the virtual network declares none inline:
declaring both would make each update of one undo the other. azure-native carries a
network's current subnets into its updates when none are declared inline
(pulumi/pulumi-azure-native#611), so tags on the network never delete the subnet.
"""

import hashlib
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
from pulumi_azure_native import network

from pushpools.components.azure.network_settings import SUBNET_DELEGATION, AciOutbound
from pushpools.components.azure.settings import AciRole, AciSettings

# What ARM checks, on the subnet, when a deployment places a container group in it
# (`subnetIds`): the linked-resource check on every resource a write references. Granted on
# the subnet only, by its own assignment: never on the group, where it would cover every
# subnet in it.
JOIN_SUBNET_ACTIONS = ("Microsoft.Network/virtualNetworks/subnets/join/action",)


@dataclass(frozen=True)
class PoolSubnet:
    """The subnet a pool's container groups run in."""

    id: pulumi.Input[str]
    """Its ARM ID: an Output of the new subnet, or the configured existing one."""
    static_id: str
    """Its ARM ID as known before anything exists (for names derived from it)."""
    group_id: str
    """The resource group that holds it: where the join role is defined and assignable."""
    needs_join_grant: bool
    """Whether the app's role on the pool's group leaves joining it out."""

    @property
    def role_purpose(self) -> str:
        """The join role's purpose: one definition per resource group that holds the subnet
        (a definition cannot move between groups, so another group is another definition)."""
        digest = hashlib.sha256(self.group_id.lower().encode()).hexdigest()[:6]
        return f"subnet-join-role-{digest}"


def declare_subnet(
    name: str,
    azure: AciSettings,
    group_name: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> PoolSubnet | None:
    """The pool's subnet (a new network's, or the configured one), or None without `network`."""
    if azure.network is None:
        return None
    subscription = f"/subscriptions/{azure.subscription_id}"
    parts = azure.network.subnet_parts()
    if parts is not None:
        group_id = f"{subscription}/resourceGroups/{parts['group']}"
        in_pool_group = parts["group"].lower() == azure.resource_group_name.lower()
        subnet_id = str(azure.network.existing_subnet_id)
        return PoolSubnet(
            id=subnet_id,
            static_id=subnet_id,
            group_id=group_id,
            # Contributor on the pool's group already covers a subnet in that group.
            needs_join_grant=azure.role is AciRole.LEAST_PRIVILEGE or not in_pool_group,
        )

    create = azure.network.create
    assert create is not None  # one of create and existing_subnet_id (the settings say so)
    names = create.names
    group_id = f"{subscription}/resourceGroups/{azure.resource_group_name}"
    nat_gateway = None
    if create.outbound is AciOutbound.NAT_GATEWAY:
        public_ip = network.PublicIPAddress(
            f"{name}-nat-ip",
            public_ip_address_name=f"{names.nat_gateway}-ip",
            resource_group_name=group_name,
            location=azure.location,
            # A NAT gateway takes Standard static IPv4 addresses only.
            sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            tags=tags,
            opts=opts,
        )
        nat_gateway = network.NatGateway(
            f"{name}-nat",
            nat_gateway_name=names.nat_gateway,
            resource_group_name=group_name,
            location=azure.location,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": public_ip.id}],
            tags=tags,
            opts=opts,
        )
    virtual_network = network.VirtualNetwork(
        f"{name}-vnet",
        virtual_network_name=names.virtual_network,
        resource_group_name=group_name,
        location=azure.location,
        address_space={"address_prefixes": [create.address_space]},
        tags=tags,
        opts=opts,
    )
    subnet = network.Subnet(
        f"{name}-subnet",
        subnet_name=names.subnet,
        virtual_network_name=virtual_network.name,
        resource_group_name=group_name,
        address_prefix=create.subnet,
        delegations=[{"name": "container-groups", "service_name": SUBNET_DELEGATION}],
        # Private: no implicit way out (Azure's default outbound access is being retired
        # for new networks, and ACI does not support it); only through the NAT gateway.
        default_outbound_access=False,
        nat_gateway=None if nat_gateway is None else {"id": nat_gateway.id},
        opts=opts,
    )
    return PoolSubnet(
        id=subnet.id,
        static_id=(
            f"{group_id}/providers/Microsoft.Network/virtualNetworks/{names.virtual_network}"
            f"/subnets/{names.subnet}"
        ),
        group_id=group_id,
        # In the pool's group: Contributor covers it; the least-privilege role does not.
        needs_join_grant=azure.role is AciRole.LEAST_PRIVILEGE,
    )


class AciNetworkNamesArgs(TypedDict):
    """Physical names of a new network (`names` of `network.create`)."""

    virtual_network: NotRequired[str]
    subnet: NotRequired[str]
    nat_gateway: NotRequired[str]


class AciNewNetworkArgs(TypedDict):
    """A new virtual network (`create` of `network`; keys described by `AciNewNetwork`)."""

    address_space: str
    subnet_prefix: NotRequired[str]
    outbound: NotRequired[AciOutbound]
    names: NotRequired[AciNetworkNamesArgs]


class AciNetworkArgs(TypedDict):
    """Where the container groups run (`network` of the `azure` section): `create` or
    `existing_subnet_id`."""

    create: NotRequired[AciNewNetworkArgs]
    existing_subnet_id: NotRequired[str]
