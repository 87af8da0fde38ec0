"""Settings of an ACI pool's private networking: the `network` key of the `azure` section.

Container groups in a virtual network run in a subnet delegated to
`Microsoft.ContainerInstance/containerGroups`, which holds nothing but container groups;
they get a private IP only (no public IP, no DNS label), and Azure supports a NAT gateway as
their only way out to the internet (Prefect's API, public registries, package indexes).
Sources and costs: docs/azure-aci.md, "Private networking".
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.naming import NameRule, derive

# The private IPv4 ranges (RFC 1918). Azure accepts public ranges in a virtual network too,
# but then the containers can no longer reach whatever really owns those addresses.
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# Azure keeps 5 addresses of every subnet, and each container group takes one more. A /29
# leaves 3, and Microsoft's ACI guide recommends one size up at least: /28 (11 groups, so 11
# flow runs at once). Bigger subnets are how a pool runs more flows side by side.
SMALLEST_SUBNET = 28
SUBNET_DELEGATION = "Microsoft.ContainerInstance/containerGroups"

# ARM names of network resources: letters, digits, '_', '.', '-'; starting with a letter or
# digit and ending with a letter, digit or '_'. Virtual networks 2-64 characters, subnets,
# NAT gateways and public IPs 1-80.
_NETWORK_NAME = re.compile(r"^[A-Za-z0-9]([\w.-]*\w)?$")
_NAME_LENGTHS = {"virtual_network": (2, 64), "subnet": (1, 80), "nat_gateway": (1, 80)}
_DERIVED = {
    "virtual_network": ("{pool}-vnet", NameRule(64)),
    "subnet": ("{pool}-subnet", NameRule(80)),
    "nat_gateway": ("{pool}-nat", NameRule(80)),
}
# A subnet's ARM ID, e.g. /subscriptions/<guid>/resourceGroups/net-rg/providers/
# Microsoft.Network/virtualNetworks/hub/subnets/aci. ARM matches the fixed segments
# without regard to case.
_SUBNET_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})"
    r"/resourceGroups/(?P<group>[\w\-.()]{0,89}[\w\-()])"
    r"/providers/Microsoft\.Network/virtualNetworks/(?P<network>[A-Za-z0-9][\w.-]{0,62}\w?)"
    r"/subnets/(?P<subnet>[A-Za-z0-9][\w.-]{0,78}\w?)$",
    re.IGNORECASE,
)


class AciOutbound(StrEnum):
    """How container groups in a new subnet reach the internet."""

    NAT_GATEWAY = "nat-gateway"
    """A NAT gateway with one static public IP: the only outbound path Azure supports for
    container groups in a virtual network. Flow runs reach Prefect Cloud, Docker Hub, PyPI."""
    NONE = "none"
    """No way out: only for a Prefect server and everything else a flow run needs reachable
    inside the network (e.g. over peering, a VPN or private endpoints)."""


class AciNetworkNames(ConfigModel):
    """Physical names of a new network, in the pool's resource group."""

    virtual_network: str | None = Field(default=None, description="The virtual network.")
    subnet: str | None = Field(default=None, description="The delegated subnet.")
    nat_gateway: str | None = Field(
        default=None,
        description="The NAT gateway; its public IP is named after it (`<name>-ip`).",
    )

    @field_validator("virtual_network", "subnet", "nat_gateway")
    @classmethod
    def _name(cls, value: str | None, info: ValidationInfo) -> str | None:
        field = str(info.field_name)
        shortest, longest = _NAME_LENGTHS[field]
        if value is not None and not (
            shortest <= len(value) <= longest and _NETWORK_NAME.match(value)
        ):
            raise ValueError(
                f"{value!r} is not a name Azure accepts here; allowed: {shortest}-{longest} "
                "letters, digits, '_', '.' and '-', starting with a letter or digit and "
                "ending with a letter, digit or '_'"
            )
        return value


class AciNewNetwork(ConfigModel):
    """A new virtual network in the pool's resource group, with one delegated subnet."""

    address_space: str = Field(
        description=(
            "The virtual network's private IPv4 range (RFC 1918), e.g. `10.20.0.0/16`. "
            "Choose one that overlaps no network you may peer it with or reach over a VPN."
        ),
    )
    subnet_prefix: str | None = Field(
        default=None,
        description=(
            "The container groups' subnet, inside `address_space`, /28 or bigger: one address "
            "per running flow run, and Azure keeps 5 (default: the first /24 of the space, or "
            "all of it if smaller)."
        ),
    )
    outbound: AciOutbound = Field(
        default=AciOutbound.NAT_GATEWAY,
        description=(
            "`nat-gateway`: a NAT gateway with a static public IP, the only outbound path "
            "Azure supports for container groups in a virtual network (flow runs need one to "
            "reach Prefect Cloud and public registries; about 33 USD a month, see below). "
            "`none`: no internet at all."
        ),
    )
    names: AciNetworkNames = Field(
        default=AciNetworkNames(),
        description="Physical names; unset ones are derived from the pool's name.",
    )

    @field_validator("address_space")
    @classmethod
    def _address_space(cls, value: str) -> str:
        network = _ipv4_network(value)
        if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
            raise ValueError(
                f"{value!r} is not a private range; allowed: inside 10.0.0.0/8, "
                "172.16.0.0/12 or 192.168.0.0/16 (e.g. '10.20.0.0/16')"
            )
        if network.prefixlen > SMALLEST_SUBNET:
            raise ValueError(
                f"{value!r} is smaller than the smallest subnet container groups can use "
                f"(/{SMALLEST_SUBNET}); allowed: /8 to /{SMALLEST_SUBNET}"
            )
        return str(network)

    @field_validator("subnet_prefix")
    @classmethod
    def _subnet_prefix(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        subnet = _ipv4_network(value)
        space = info.data.get("address_space")
        if space is not None and not subnet.subnet_of(ipaddress.IPv4Network(space)):
            raise ValueError(
                f"{value!r} is not inside address_space {space!r}; allowed: a range within it"
            )
        if subnet.prefixlen > SMALLEST_SUBNET:
            raise ValueError(
                f"{value!r} holds {max(subnet.num_addresses - 5, 0)} usable addresses (Azure "
                f"keeps 5 of every subnet); allowed: /{SMALLEST_SUBNET} or bigger, which "
                "Microsoft recommends for container groups (one address per running flow run)"
            )
        return str(subnet)

    @property
    def subnet(self) -> str:
        """The delegated subnet's range."""
        if self.subnet_prefix is not None:
            return self.subnet_prefix
        space = ipaddress.IPv4Network(self.address_space)
        return str(next(space.subnets(new_prefix=max(space.prefixlen, 24))))

    def resolve_names(self, pool_name: str) -> AciNewNetwork:
        """A copy with every unset name derived from the pool's name (the same in both naming
        modes: Prefect's helper creates no network)."""
        filled = {
            field: derive(template, pool_name, rule)
            for field, (template, rule) in _DERIVED.items()
            if getattr(self.names, field) is None
        }
        names = AciNetworkNames.model_construct(
            _fields_set=set(self.names.model_fields_set), **{**self.names.model_dump(), **filled}
        )
        return self.model_copy(update={"names": names})


class AciNetwork(ConfigModel):
    """Run the container groups in a virtual network: a new one, or an existing subnet."""

    create: AciNewNetwork | None = Field(
        default=None,
        description=(
            "Create a virtual network and a subnet delegated to container groups in the "
            "pool's resource group (not with `existing_subnet_id`)."
        ),
    )
    existing_subnet_id: str | None = Field(
        default=None,
        description=(
            "ARM ID of an existing subnet, delegated to `Microsoft.ContainerInstance/"
            "containerGroups` and in the pool's subscription, e.g. `/subscriptions/<id>/"
            "resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<network>/"
            "subnets/<subnet>` (not with `create`). Its outbound path is yours to provide."
        ),
    )

    @field_validator("existing_subnet_id")
    @classmethod
    def _existing_subnet_id(cls, value: str | None) -> str | None:
        if value is not None and not _SUBNET_ID.match(value):
            raise ValueError(
                f"{value!r} is not a subnet's ARM ID; allowed: '/subscriptions/<subscription "
                "GUID>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/"
                "<network>/subnets/<subnet>' (`az network vnet subnet show --query id`)"
            )
        return value

    @model_validator(mode="after")
    def _one_subnet(self) -> AciNetwork:
        if self.create is not None and self.existing_subnet_id is not None:
            raise ValueError(
                "give either create (a new network) or existing_subnet_id (a subnet you "
                "have), not both"
            )
        if self.create is None and self.existing_subnet_id is None:
            raise ValueError(
                "give create (a new network, e.g. {address_space: 10.20.0.0/16}) or "
                "existing_subnet_id (a subnet you have); neither is set"
            )
        return self

    def subnet_parts(self) -> dict[str, str] | None:
        """An existing subnet's subscription, group, network and subnet names."""
        if self.existing_subnet_id is None:
            return None
        match = _SUBNET_ID.match(self.existing_subnet_id)
        return None if match is None else match.groupdict()


def _ipv4_network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value)
    except ValueError:
        try:
            meant = str(ipaddress.IPv4Network(value, strict=False))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IPv4 network in CIDR notation; allowed: e.g. "
                "'10.20.0.0/16' (container groups in a virtual network take no IPv6)"
            ) from None
        raise ValueError(
            f"{value!r} has host bits set, so it is not a network address; did you mean {meant!r}?"
        ) from None
