"""Settings of a Cloud Run pool's private networking (the `gcp.network` section).

Prefect's Cloud Run templates (push and worker, v1 and v2) offer one way into a VPC: the
`vpc_connector_name` variable, a Serverless VPC Access connector. They have no variable for
the egress setting nor for Direct VPC egress (`vpcAccess.networkInterfaces`), so neither is
offered here (docs/gcp-cloud-run.md says how to get them with a template of one's own).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pushpools.components.config.base import ConfigModel
from pushpools.components.gcp.ids import checked_project_id
from pushpools.components.naming import NameRule, Naming, derive

# Google's rule for a connector's name (the API refuses anything else).
_CONNECTOR_NAME = re.compile(r"^[a-z][-a-z0-9]{0,23}[a-z0-9]$")
CONNECTOR_NAME_RULE = NameRule(25, first_is_letter=True)
DERIVED_CONNECTOR_NAME = "{pool}-vpc"
HELPER_CONNECTOR_NAME = "prefect-cloud-run-vpc"
# VPC network and subnetwork names (RFC 1035 labels, as Compute Engine names).
_NETWORK_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# A connector's full resource name; its project may be an ID or a number.
_CONNECTOR_ID = re.compile(
    r"^projects/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})"
    r"/locations/(?P<region>[a-z]+-[a-z]+\d+)"
    r"/connectors/(?P<name>[a-z][-a-z0-9]{0,23}[a-z0-9])$"
)
# The ranges Google accepts for a connector's /28: RFC 1918 and RFC 6598 (shared space).
_CONNECTOR_RANGES = (
    *tuple(ipaddress.IPv4Network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ipaddress.IPv4Network("100.64.0.0/10"),
)


class ConnectorMachineType(StrEnum):
    """Machine types a connector's instances may have (Google bills them as VMs)."""

    F1_MICRO = "f1-micro"
    E2_MICRO = "e2-micro"
    E2_STANDARD_4 = "e2-standard-4"


class NewConnector(ConfigModel):
    """A Serverless VPC Access connector pushpools creates in the pool's project and region,
    on an unused /28 range of a VPC network of the project, or on an existing /28 subnet
    (of the project, or of a Shared VPC host project)."""

    name: str | None = Field(
        default=None,
        description=(
            "The connector's name (at most 25 characters); default `<pool>-vpc`, or "
            "`prefect-cloud-run-vpc` with `naming: helper`."
        ),
    )
    network: str | None = Field(
        default=None,
        description="VPC network of the pool's project the connector joins (with `ip_cidr_range`).",
    )
    ip_cidr_range: str | None = Field(
        default=None,
        description=(
            "An unused /28 range of `network` (in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or "
            "100.64.0.0/10) where Google makes a hidden subnet for the connector."
        ),
    )
    subnet: str | None = Field(
        default=None,
        description=(
            "Name of an existing /28 subnet, used by nothing else, in the pool's region "
            "(instead of `network` and `ip_cidr_range`); required for a Shared VPC."
        ),
    )
    host_project: str | None = Field(
        default=None,
        description=(
            "The Shared VPC host project that owns `subnet`: the connector's and Google APIs' "
            "service agents of the pool's project get `compute.networkUser` on that subnet."
        ),
    )
    min_instances: int = Field(
        default=2,
        ge=2,
        le=9,
        description="Fewest connector instances (2-9); each is billed as a VM all the time.",
    )
    max_instances: int = Field(
        default=3,
        ge=3,
        le=10,
        description="Most connector instances (3-10), more than `min_instances`.",
    )
    machine_type: ConnectorMachineType = Field(
        default=ConnectorMachineType.E2_MICRO,
        description="Machine type of the connector's instances.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTOR_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid connector name; allowed: 2-25 lowercase letters, "
                "digits and hyphens, starting with a letter, not ending with a hyphen"
            )
        return value

    @field_validator("network", "subnet")
    @classmethod
    def _network_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _NETWORK_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid {info.field_name} name; allowed: 1-63 lowercase "
                "letters, digits and hyphens, starting with a letter, not ending with a hyphen"
            )
        return value

    @field_validator("ip_cidr_range")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            try:
                meant = str(ipaddress.IPv4Network(value, strict=False))
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an IPv4 range in CIDR notation; allowed: an unused /28 "
                    "such as '10.8.0.0/28'"
                ) from None
            raise ValueError(
                f"{value!r} has host bits set, so it is not a network address; "
                f"did you mean {meant!r}?"
            ) from None
        if network.prefixlen != 28:
            raise ValueError(
                f"{value!r} is a /{network.prefixlen}; a connector takes exactly a /28 "
                "(16 addresses), such as '10.8.0.0/28'"
            )
        if not any(network.subnet_of(allowed) for allowed in _CONNECTOR_RANGES):
            raise ValueError(
                f"{value!r} is not an internal range; allowed: a /28 inside 10.0.0.0/8, "
                "172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10"
            )
        return str(network)

    @field_validator("host_project")
    @classmethod
    def _host_project(cls, value: str | None) -> str | None:
        return None if value is None else checked_project_id(value)

    @model_validator(mode="after")
    def _one_place(self) -> NewConnector:
        problems = []
        if self.subnet is not None and (self.network or self.ip_cidr_range):
            problems.append(
                "subnet is set together with network/ip_cidr_range; a connector is placed "
                "either on an existing subnet or on a new range of a network: set one of them"
            )
        elif self.subnet is None and self.ip_cidr_range is None:
            problems.append(
                "the connector needs a place: set network and ip_cidr_range (an unused /28), "
                "or subnet (an existing /28 subnet)"
            )
        elif self.ip_cidr_range is not None and self.network is None:
            problems.append(
                f"ip_cidr_range {self.ip_cidr_range!r} is set without network; name the VPC "
                "network of the pool's project it belongs to"
            )
        if self.host_project is not None and self.subnet is None:
            problems.append(
                f"host_project {self.host_project!r} is set without subnet; a Shared VPC "
                "connector needs a /28 subnet the host project's admin made for it"
            )
        if self.max_instances <= self.min_instances:
            problems.append(
                f"max_instances {self.max_instances} is not more than min_instances "
                f"{self.min_instances}; Google requires max_instances > min_instances"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def with_name(self, pool_name: str, naming: Naming) -> NewConnector:
        """A copy with the name filled in (an explicit name wins in both modes)."""
        if self.name is not None:
            return self
        name = (
            HELPER_CONNECTOR_NAME
            if naming is Naming.HELPER
            else derive(DERIVED_CONNECTOR_NAME, pool_name, CONNECTOR_NAME_RULE)
        )
        # The filled name does not count as set (as `fill_names` does for `names`).
        return type(self).model_construct(
            _fields_set=set(self.model_fields_set), **{**self.model_dump(), "name": name}
        )


class CloudRunNetwork(ConfigModel):
    """How the pool's jobs reach a VPC: through a connector pushpools creates, or an existing
    one (the template's `vpc_connector_name` is set to it)."""

    connector: NewConnector | None = Field(
        default=None,
        description="Create a Serverless VPC Access connector for the pool's jobs.",
    )
    existing_connector: str | None = Field(
        default=None,
        description=(
            "Use an existing connector, by its full name "
            "`projects/<project>/locations/<region>/connectors/<name>`, in the pool's region; "
            "one in another project (a Shared VPC host's) gets Cloud Run's service agent "
            "`vpcaccess.user` there."
        ),
    )

    @field_validator("existing_connector")
    @classmethod
    def _existing(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTOR_ID.match(value):
            raise ValueError(
                f"{value!r} is not a connector's full name; allowed: "
                "projects/<project id or number>/locations/<region>/connectors/<name>"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> CloudRunNetwork:
        if self.connector is not None and self.existing_connector is not None:
            raise ValueError(
                "both connector and existing_connector are set; create a connector or use "
                "an existing one: set one of them"
            )
        if self.connector is None and self.existing_connector is None:
            raise ValueError(
                "network is set, but neither connector (to create one) nor "
                "existing_connector (to use one) is"
            )
        return self

    @property
    def existing_connector_project(self) -> str | None:
        match = _CONNECTOR_ID.match(self.existing_connector or "")
        return match["project"] if match else None

    def problem_in_region(self, region: str) -> str | None:
        """Why this network cannot serve jobs in `region` (a connector serves its own)."""
        match = _CONNECTOR_ID.match(self.existing_connector or "")
        if match and match["region"] != region:
            return (
                f"existing_connector {self.existing_connector!r} is in {match['region']}, but "
                f"the pool's jobs run in {region}; a connector serves only its own region: "
                f"use a connector in {region}"
            )
        return None

    def with_names(self, pool_name: str, naming: Naming) -> CloudRunNetwork:
        if self.connector is None:
            return self
        return self.model_copy(update={"connector": self.connector.with_name(pool_name, naming)})
