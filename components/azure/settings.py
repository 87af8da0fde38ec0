"""Settings of an Azure Container Instances pool (push type and worker type)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from difflib import get_close_matches
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pushpools.components import clock
from pushpools.components.azure.network_settings import AciNetwork
from pushpools.components.config.base import ConfigModel, refuse_repeats
from pushpools.components.naming import NameRule, Naming, fill_names, fit, stable_hash

# Public Azure regions (`az account list-locations`, regionType Physical), by ARM name.
# Some are restricted to customers with a local presence; ARM says so at `pulumi up`.
AZURE_LOCATIONS = frozenset(
    [
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "belgiumcentral",
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "chilecentral",
        "eastasia",
        "eastus",
        "eastus2",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "jioindiacentral",
        "jioindiawest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "switzerlandnorth",
        "switzerlandwest",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
    ]
)

# Entra ID lets the portal pick at most 24 months for a client secret, and Microsoft
# recommends less; a tenant's app-management policy may allow even less. We refuse more
# than 730 days: a secret that outlives its owner's memory is how the helper's one-year
# secret silently breaks pools.
MAX_CLIENT_SECRET_DAYS = 730

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Resource group: 1-90 letters, digits, '_', '-', '.', '(' and ')', not ending with '.'.
_RESOURCE_GROUP = re.compile(r"^[\w\-.()]{0,89}[\w\-()]$")
# User-assigned identity: 3-128 letters, digits, '-' and '_', starting with a letter or digit.
_IDENTITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
# Container registry: 5-50 letters and digits (it becomes <name>.azurecr.io).
_REGISTRY = re.compile(r"^[A-Za-z0-9]{5,50}$")
_MAX_DISPLAY_NAME = 120


# How long a rotated secret outlives its rotation day by default: `pulumi up` must run in
# that window (a monthly scheduled deploy fits).
DEFAULT_GRACE_DAYS = 30


def today_utc() -> date:
    return clock.today_utc()


# The names Prefect's `--provision-infra` helper gives (`naming: helper`). Its registry
# name ends in a timestamp, so every run would make another registry: pushpools' own
# stable name is used instead (see registry_name).
HELPER_NAMES = {
    "resource_group": "prefect-aci-push-pool-rg",
    "app_registration": "prefect-aci-push-pool-app",
    "identity": "prefect-acr-identity",
}
# Derived names (`naming: derived`, the default): the pool's name and a suffix.
_DERIVED = {
    "resource_group": ("{pool}-rg", NameRule(90)),
    "app_registration": ("{pool}-prefect", NameRule(_MAX_DISPLAY_NAME)),
    "identity": ("{pool}-acr-identity", NameRule(128)),
}
# Registry names are global in Azure and only letters and digits.
_REGISTRY_RULE = NameRule(50, dropped="^A-Za-z0-9")


class AciRole(StrEnum):
    """What Prefect's app may do in the resource group."""

    CONTRIBUTOR = "contributor"
    """Built-in Contributor, as Prefect's helper grants."""
    LEAST_PRIVILEGE = "least-privilege"
    """Custom roles limited to what the ACI worker does."""


class AciNames(ConfigModel):
    """Physical names. Unset ones are derived from the pool's name (`naming: derived`,
    e.g. `<pool>-rg`) or are the helper's (`naming: helper`)."""

    resource_group: str | None = Field(
        default=None,
        description="Resource group to create (not with `existing_resource_group`).",
    )
    app_registration: str | None = Field(
        default=None,
        description="Display name of the Entra ID app registration Prefect signs in as.",
    )
    identity: str | None = Field(
        default=None,
        description="User-assigned managed identity the container groups pull images with.",
    )
    registry: str | None = Field(
        default=None,
        description=(
            "Container registry name, globally unique in Azure. Default: the pool's name without "
            "dashes (`naming: derived`) or `prefect` (`naming: helper`), and a suffix hashed from "
            "subscription, resource group and pool, stable across runs (the helper's suffix is a "
            "timestamp, so every run would make another registry)."
        ),
    )

    @field_validator("resource_group")
    @classmethod
    def _resource_group(cls, value: str | None) -> str | None:
        return None if value is None else _valid_resource_group(value)

    @field_validator("app_registration")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= _MAX_DISPLAY_NAME:
            raise ValueError(
                f"{value!r} is not a valid app registration name; allowed: 1-"
                f"{_MAX_DISPLAY_NAME} characters"
            )
        return value

    @field_validator("identity")
    @classmethod
    def _identity(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTITY.match(value):
            raise ValueError(
                f"{value!r} is not a valid managed identity name; allowed: 3-128 letters, "
                "digits, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is not None and not _REGISTRY.match(value):
            raise ValueError(
                f"{value!r} is not a name Azure accepts for a container registry; allowed: "
                "5-50 letters and digits only (no '-', '_' or '.')"
            )
        return value


class AciSettings(ConfigModel):
    """The `azure` section of an Azure Container Instances pool."""

    subscription_id: str = Field(
        description=(
            "Subscription that hosts the pool's resource group, registry and container groups. "
            "Always explicit: the helper silently picks the login's first subscription."
        ),
    )
    location: str = Field(
        default="eastus",
        description=(
            "Azure region of the resource group, registry and identity (the helper's default)."
        ),
    )
    existing_resource_group: str | None = Field(
        default=None,
        description=(
            "Use this existing resource group instead of creating one (it is not tagged or deleted "
            "by pushpools)."
        ),
    )
    names: AciNames = Field(
        default=AciNames(),
        description=(
            "Physical names; unset ones are derived from the pool's name (`naming: derived`) "
            "or are the names Prefect's helper gives (`naming: helper`)."
        ),
    )
    client_secret_rotation_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CLIENT_SECRET_DAYS - 1,
        description=(
            "Rotate the client secret every that many days: the first `pulumi up` on or after "
            "the day replaces it (and updates the block). Each secret stops working "
            "`client_secret_grace_days` after its rotation day. Give this or "
            "`client_secret_expires_on`."
        ),
    )
    client_secret_grace_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "With `client_secret_rotation_days`: how long a secret outlives its rotation day, "
            f"the window in which `pulumi up` must run (default {DEFAULT_GRACE_DAYS}). Rotation "
            "and grace together: at most 730 days."
        ),
    )
    client_secret_expires_on: date | None = Field(
        default=None,
        description=(
            "Instead of a rotation: the day (00:00 UTC) the client secret stops working, at most "
            "730 days ahead. Changing it replaces the secret (and updates the block)."
        ),
    )
    secret_generation: int = Field(
        default=1,
        ge=1,
        description=(
            "Bump to rotate the client secret: a new one is created and put in the block, then the "
            "old one is deleted."
        ),
    )
    delete_images_on_destroy: bool = Field(
        default=False,
        description=(
            "Let `pulumi destroy` delete the registry (and a created resource group) with its "
            "images. Off: the registry is protected, and destroy stops before deleting anything, "
            "naming it."
        ),
    )
    app_owners: list[str] | None = Field(
        default=None,
        description=(
            "Object IDs of the users and service principals that own the app registration and its "
            "service principal. Default: the principal whose `pulumi up` creates them (the "
            "azuread provider's login), set at creation and not compared again, so previews by "
            "another principal plan no change; holding Microsoft Graph "
            "`Application.ReadWrite.OwnedBy` (the GitOps deploy identity), it can update or "
            "delete only what it owns. When set, it is the whole list, kept as listed: name "
            "every principal that deploys the stack (a read-only preview identity need not be "
            "listed). Owners other than the deploying principal itself need "
            "`Application.ReadWrite.All` (or an Entra administrator) to add."
        ),
    )
    role: AciRole = Field(
        default=AciRole.CONTRIBUTOR,
        description=(
            "What the app may do in the resource group: built-in Contributor, as the helper "
            "grants, or custom roles limited to what the ACI worker does: deployments and "
            "container groups in the group, and assigning the pool's own identity only."
        ),
    )

    # Private networking (components/azure/network_settings.py), after the keys it is
    # checked against.
    network: AciNetwork | None = Field(
        default=None,
        description=(
            "Run the container groups in a virtual network, with private IPs only: a new "
            "network (`create`) or an existing delegated subnet (`existing_subnet_id`). "
            "Unset: container groups run in no network of yours and reach the internet "
            "through Azure's own outbound access."
        ),
    )

    @field_validator("network")
    @classmethod
    def _network_in_subscription(
        cls, value: AciNetwork | None, info: ValidationInfo
    ) -> AciNetwork | None:
        if value is None or value.existing_subnet_id is None:
            return value
        parts = value.subnet_parts() or {}
        subscription = info.data.get("subscription_id")
        if subscription and parts.get("subscription", "").lower() != subscription:
            raise ValueError(
                f"existing_subnet_id {value.existing_subnet_id!r} is in subscription "
                f"{parts.get('subscription')}, not the pool's {subscription}; allowed: a subnet "
                "in the pool's subscription (Azure deploys container groups only to subnets "
                "of their own subscription)"
            )
        return value

    @field_validator("subscription_id")
    @classmethod
    def _subscription_id(cls, value: str) -> str:
        if not _GUID.match(value):
            raise ValueError(
                f"{value!r} is not an Azure subscription ID; allowed: a GUID such as "
                "'00000000-0000-0000-0000-000000000000' (see `az account list -o table`)"
            )
        return value.lower()

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        # ARM also takes display names ("West Europe"); the ARM name is the canonical one.
        canonical = value.replace(" ", "").lower()
        if canonical not in AZURE_LOCATIONS:
            hint = get_close_matches(canonical, AZURE_LOCATIONS, n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"{value!r} is not an Azure region{did_you_mean}; allowed: "
                + ", ".join(sorted(AZURE_LOCATIONS))
            )
        return canonical

    @field_validator("app_owners")
    @classmethod
    def _app_owners(cls, owners: list[str] | None) -> list[str] | None:
        if owners is None:
            return None
        if not owners:
            raise ValueError(
                "[] would leave the app registration without owners, so a deploy identity "
                "holding Application.ReadWrite.OwnedBy could not update or delete it; allowed: "
                "one or more object IDs, or no app_owners key (the deploying principal)"
            )
        bad = [o for o in owners if not _GUID.match(o)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not an Entra object ID; allowed: a GUID such as "
                "'00000000-0000-0000-0000-000000000000' (`az ad sp show --id <client id> "
                "--query id`, `az ad user show --id <upn> --query id`)"
            )
        refuse_repeats(owners, "owner", fold=str.lower, clash="are one object ID")
        # Graph answers object IDs in lower case: the same spelling never shows as a change.
        return sorted(o.lower() for o in owners)

    @field_validator("existing_resource_group")
    @classmethod
    def _existing_resource_group(cls, value: str | None) -> str | None:
        return None if value is None else _valid_resource_group(value)

    @field_validator("client_secret_expires_on")
    @classmethod
    def _expiry(cls, value: date | None) -> date | None:
        if value is None:
            return None
        today = today_utc()
        latest = today + timedelta(days=MAX_CLIENT_SECRET_DAYS)
        if value <= today:
            raise ValueError(
                f"{value.isoformat()} is not in the future (today is {today.isoformat()} UTC); "
                f"allowed: a date from {(today + timedelta(days=1)).isoformat()} to "
                f"{latest.isoformat()}. A new date replaces the secret in the block"
            )
        if value > latest:
            raise ValueError(
                f"{value.isoformat()} is more than {MAX_CLIENT_SECRET_DAYS} days ahead; "
                f"allowed: at most {latest.isoformat()} (Entra ID portals offer 24 months "
                "at most, and tenant policies may allow less)"
            )
        return value

    @model_validator(mode="after")
    def _one_secret_lifetime(self) -> AciSettings:
        rotation = self.client_secret_rotation_days
        if rotation is None and self.client_secret_expires_on is None:
            raise ValueError(
                "set client_secret_rotation_days (a new client secret every that many days, "
                "e.g. 90) or client_secret_expires_on (a fixed last day, YYYY-MM-DD); "
                "neither is set"
            )
        if rotation is not None and self.client_secret_expires_on is not None:
            raise ValueError(
                "give either client_secret_rotation_days (a secret that rotates) or "
                "client_secret_expires_on (a fixed last day), not both"
            )
        if rotation is None and self.client_secret_grace_days is not None:
            raise ValueError(
                "client_secret_grace_days applies only with client_secret_rotation_days; "
                "remove it, or set client_secret_rotation_days"
            )
        if rotation is not None and rotation + self.grace_days > MAX_CLIENT_SECRET_DAYS:
            raise ValueError(
                f"client_secret_rotation_days ({rotation}) and client_secret_grace_days "
                f"({self.grace_days}) give a secret {rotation + self.grace_days} days of life; "
                f"allowed: at most {MAX_CLIENT_SECRET_DAYS} together"
            )
        return self

    @property
    def grace_days(self) -> int:
        """How long a rotated secret outlives its rotation day."""
        return self.client_secret_grace_days or DEFAULT_GRACE_DAYS

    @model_validator(mode="after")
    def _one_resource_group(self) -> AciSettings:
        names_a_new_group = "resource_group" in self.names.model_fields_set
        if self.existing_resource_group is not None and names_a_new_group:
            raise ValueError(
                "give either existing_resource_group (use a group) or names.resource_group "
                "(create one), not both"
            )
        return self

    def resolve_names(self, pool_name: str, naming: Naming) -> AciSettings:
        """A copy with every unset name filled in (explicit names win in both modes)."""
        names = fill_names(self.names, pool_name, naming, HELPER_NAMES, _DERIVED)
        if names.registry is None:
            group = (self.existing_resource_group or names.resource_group or "").lower()
            digest = stable_hash(f"{self.subscription_id}/{group}/{pool_name}", 10)
            stem = "prefect" if naming is Naming.HELPER else pool_name
            names = names.model_copy(update={"registry": fit(f"{stem}{digest}", _REGISTRY_RULE)})
        resolved = self.model_copy(update={"names": names})
        if self.network is not None and self.network.create is not None:
            network = self.network.model_copy(
                update={"create": self.network.create.resolve_names(pool_name)}
            )
            resolved = resolved.model_copy(update={"network": network})
        return resolved

    @property
    def resource_group_name(self) -> str:
        return self.existing_resource_group or str(self.names.resource_group)

    def registry_name(self, pool_name: str) -> str:
        """The registry's name (`pool_name` is kept for callers; names are resolved)."""
        del pool_name
        return str(self.names.registry)

    @property
    def client_secret_end_date(self) -> str:
        """The fixed expiry as Entra ID takes it (RFC 3339); only without a rotation."""
        if self.client_secret_expires_on is None:
            raise TypeError("the client secret rotates: its end date comes from the rotation")
        return f"{self.client_secret_expires_on.isoformat()}T00:00:00Z"

    def physical_names(self) -> list[tuple[str, str, str]]:
        """(what, where it must be unique, config key suffix) for collision checks."""
        # Azure resource names ignore case: `Data-RG` and `data-rg` are one resource group.
        group = f"resource group {self.resource_group_name.lower()!r}"
        where = f"subscription {self.subscription_id.lower()}"
        names = [
            (
                f"managed identity {str(self.names.identity).lower()!r}",
                f"{where}, {group}",
                "azure.names.identity",
            ),
            # Duplicate display names are refused (prevent_duplicate_names) so that no pool
            # silently shares another's app; the tenant is only known at `pulumi up`.
            (
                f"app registration {str(self.names.app_registration).lower()!r}",
                "the Entra ID tenant",
                "azure.names.app_registration",
            ),
        ]
        if self.existing_resource_group is None:
            names.append((group, where, "azure.names.resource_group"))
        if self.network is not None and self.network.create is not None:
            network = self.network.create.names
            names += [
                (
                    f"virtual network {str(network.virtual_network).lower()!r}",
                    f"{where}, {group}",
                    "azure.network.create.names.virtual_network",
                ),
                (
                    f"NAT gateway {str(network.nat_gateway).lower()!r}",
                    f"{where}, {group}",
                    "azure.network.create.names.nat_gateway",
                ),
            ]
        if self.names.registry is not None:
            names.append(
                (
                    f"container registry {self.names.registry.lower()!r}",
                    "Azure (registry names are global)",
                    "azure.names.registry",
                )
            )
        return names


def _valid_resource_group(value: str) -> str:
    if not _RESOURCE_GROUP.match(value):
        raise ValueError(
            f"{value!r} is not a valid resource group name; allowed: 1-90 letters, digits, "
            "'_', '-', '.', '(' and ')', not ending with '.'"
        )
    return value
