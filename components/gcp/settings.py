"""Settings of a Cloud Run pool (push types and the Cloud Run worker types)."""

from __future__ import annotations

import re
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pushpools.components.config.api_key_secret import (
    API_KEY_DESCRIPTION,
    AUTH_STRING_DESCRIPTION,
    ApiKeySecretSettings,
    AuthStringSecretSettings,
    resolve_secret_names,
    secret_config_keys,
    secret_physical_names,
)
from pushpools.components.config.base import ConfigModel, FromAnotherResource, refuse_repeats
from pushpools.components.config.pool_types import Cloud
from pushpools.components.gcp.ids import checked_project_id, checked_service_account_id
from pushpools.components.gcp.network_settings import CloudRunNetwork
from pushpools.components.naming import NameRule, Naming, fill_names
from pushpools.components.tagging import slug

# Regions where Cloud Run and Artifact Registry are both offered.
CLOUD_RUN_REGIONS = frozenset(
    [
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    ]
)

_REPOSITORY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
# A service account's email: user-managed (<id>@<project>.iam.gserviceaccount.com) or
# Google-managed, such as the Compute Engine default (<number>-compute@developer...).
_ACCOUNT_EMAIL = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$")
_ROLE = re.compile(r"^(roles|projects/[a-z][a-z0-9-]+/roles|organizations/\d+/roles)/[\w.]+$")


# The names Prefect's `--provision-infra` helper gives (`naming: helper`).
HELPER_NAMES = {
    "service_account": "prefect-cloud-run",
    "runtime_service_account": "prefect-cloud-run-jobs",
    "repository": "prefect-images",
}
# Derived names (`naming: derived`, the default): the pool's name and a suffix.
_DERIVED = {
    "service_account": ("{pool}-prefect", NameRule(30, first_is_letter=True)),
    "runtime_service_account": ("{pool}-jobs", NameRule(30, first_is_letter=True)),
    "repository": ("{pool}-images", NameRule(63, first_is_letter=True)),
}


class ServiceAccountUserScope(StrEnum):
    """Where Prefect's account may act as another account (`iam.serviceAccountUser`)."""

    RUNTIME_ACCOUNT = "runtime-account"
    """Only on the pool's runtime account (least privilege)."""
    PROJECT = "project"
    """On every service account of the project, as Prefect's helper grants it."""


class CloudRunNames(ConfigModel):
    """Physical names. Unset ones are derived from the pool's name (`naming: derived`,
    e.g. `<pool>-prefect`) or are the helper's (`naming: helper`)."""

    service_account: str | None = Field(
        default=None,
        description=(
            "Account ID of the service account Prefect acts as (its key goes into the block)."
        ),
    )
    runtime_service_account: str | None = Field(
        default=None,
        description="Account ID of the service account the Cloud Run jobs run as.",
    )
    repository: str | None = Field(
        default=None,
        description="Artifact Registry repository for flow images.",
    )

    @field_validator("service_account", "runtime_service_account")
    @classmethod
    def _account_id(cls, value: str | None) -> str | None:
        return None if value is None else checked_service_account_id(value)

    @field_validator("repository")
    @classmethod
    def _repository_id(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY_ID.match(value):
            raise ValueError(
                f"{value!r} is not a valid Artifact Registry repository ID; allowed: "
                "1-63 lowercase letters, digits and hyphens, starting with a letter"
            )
        return value


class CloudRunSettings(ConfigModel):
    """The `gcp` section of a Cloud Run pool."""

    project: Annotated[str, FromAnotherResource("project-from-an-output")] = Field(
        description="GCP project ID that hosts the pool's jobs, registry and service accounts.",
    )
    region: str = Field(
        default="us-central1",
        description="Region of the Cloud Run jobs and of the image repository.",
    )
    names: CloudRunNames = Field(
        default=CloudRunNames(),
        description=(
            "Physical names; unset ones are derived from the pool's name (`naming: derived`) "
            "or are the names Prefect's helper gives (`naming: helper`)."
        ),
    )
    service_account_user_scope: ServiceAccountUserScope = Field(
        default=ServiceAccountUserScope.RUNTIME_ACCOUNT,
        description=(
            "Where Prefect's account may act as (`iam.serviceAccountUser`): only on the runtime "
            "account (least privilege), or on every service account of the project, as the helper "
            "does."
        ),
    )
    runtime_roles: list[str] = Field(
        default=[],
        description="Project roles for the runtime account, for what the flow code itself needs.",
    )
    act_as_service_accounts: list[str] = Field(
        default=[],
        description=(
            "Emails of other service accounts deployments may run as (a deployment that sets "
            "`service_account_name`): Prefect's account may act as each, besides the runtime "
            "account. Only with `service_account_user_scope: runtime-account` (`project` covers "
            "them all)."
        ),
    )
    delete_images_on_destroy: bool = Field(
        default=False,
        description=(
            "Let `pulumi destroy` delete the image repository with its images. Off: the repository "
            "is protected, and destroy stops before deleting anything, naming it."
        ),
    )
    delete_untagged_images_after_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="If set, a cleanup policy deletes untagged images older than this.",
    )
    enable_services: bool = Field(
        default=True,
        description="Enable run, artifactregistry and iam APIs (never disabled on destroy).",
    )
    key_generation: int = Field(
        default=1,
        ge=1,
        description=(
            "Bump to rotate the service-account key: a new key is created and put in the block, "
            "then the old key is deleted."
        ),
    )

    # Private networking (docs/gcp-cloud-run.md, "Private networking").
    network: CloudRunNetwork | None = Field(
        default=None,
        description=(
            "Let the jobs reach a VPC through a Serverless VPC Access connector: one pushpools "
            "creates (`connector`) or an existing one (`existing_connector`). Unset: no VPC."
        ),
    )

    @field_validator("network")
    @classmethod
    def _network_fits_the_pool(
        cls, network: CloudRunNetwork | None, info: ValidationInfo
    ) -> CloudRunNetwork | None:
        if network is None or "region" not in info.data:  # an invalid region is reported
            return network
        problem = network.problem_in_region(info.data["region"])
        host = network.connector.host_project if network.connector else None
        if problem is None and host is not None and host == info.data.get("project"):
            problem = (
                f"connector.host_project {host!r} is the pool's own project; host_project "
                "names another project's Shared VPC: remove it"
            )
        if problem is not None:
            raise ValueError(problem)
        return network

    # The Prefect API key in the cloud's secret store (config/api_key_secret.py).
    prefect_api_key_secret: ApiKeySecretSettings | None = Field(
        default=None, description=API_KEY_DESCRIPTION
    )
    prefect_api_auth_string_secret: AuthStringSecretSettings | None = Field(
        default=None, description=AUTH_STRING_DESCRIPTION
    )

    def secret_config_keys(self) -> dict[str, str]:
        """Top-level secret config keys this pool reads -> the setting that names each."""
        return secret_config_keys(self, Cloud.GCP)

    @field_validator("project")
    @classmethod
    def _project_id(cls, value: str) -> str:
        return checked_project_id(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in CLOUD_RUN_REGIONS:
            hint = get_close_matches(value, sorted(CLOUD_RUN_REGIONS), n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"{value!r} is not a Cloud Run region{did_you_mean}; allowed: "
                + ", ".join(sorted(CLOUD_RUN_REGIONS))
            )
        return value

    @field_validator("runtime_roles")
    @classmethod
    def _roles(cls, roles: list[str]) -> list[str]:
        bad = [r for r in roles if not _ROLE.match(r)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not an IAM role name; allowed: roles/<name>, "
                "projects/<project>/roles/<name> or organizations/<id>/roles/<name>"
            )
        refuse_repeats(roles, "role", fold=slug)
        return roles

    @field_validator("act_as_service_accounts")
    @classmethod
    def _act_as(cls, emails: list[str]) -> list[str]:
        bad = [e for e in emails if not _ACCOUNT_EMAIL.match(e)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a service account email; allowed: "
                "<account id>@<project>.iam.gserviceaccount.com (or a Google-managed "
                "account's email, ending in .gserviceaccount.com)"
            )
        refuse_repeats(emails, "account")
        return emails

    @model_validator(mode="after")
    def _act_as_needs_runtime_scope(self) -> CloudRunSettings:
        project_wide = self.service_account_user_scope is ServiceAccountUserScope.PROJECT
        if self.act_as_service_accounts and project_wide:
            raise ValueError(
                "act_as_service_accounts is set, but service_account_user_scope: project "
                "already lets Prefect act as every account of the project; remove one of them"
            )
        return self

    def resolve_names(self, pool_name: str, naming: Naming) -> CloudRunSettings:
        """A copy with every unset name filled in (explicit names win in both modes)."""
        names = fill_names(self.names, pool_name, naming, HELPER_NAMES, _DERIVED)
        runtime = f"{names.runtime_service_account}@{self.project}.iam.gserviceaccount.com"
        if runtime in self.act_as_service_accounts:
            raise ValueError(
                f"act_as_service_accounts lists {runtime!r}, the pool's runtime account, "
                "which Prefect may always act as; remove it from the list"
            )
        update: dict[str, object] = {
            "names": names,
            **resolve_secret_names(self, pool_name, naming),
        }
        if self.network is not None:  # an unset network stays unset
            update["network"] = self.network.with_names(pool_name, naming)
        return self.model_copy(update=update)

    def physical_names(self) -> list[tuple[str, str, str]]:
        """(what, where it must be unique, config key suffix) for collision checks."""
        return [
            (
                f"service account {self.names.service_account!r}",
                f"project {self.project}",
                "gcp.names.service_account",
            ),
            (
                f"service account {self.names.runtime_service_account!r}",
                f"project {self.project}",
                "gcp.names.runtime_service_account",
            ),
            (
                f"repository {self.names.repository!r}",
                f"project {self.project}, region {self.region}",
                "gcp.names.repository",
            ),
            *secret_physical_names(self, Cloud.GCP, f"project {self.project}"),
            *self._network_names(),
        ]

    def _network_names(self) -> list[tuple[str, str, str]]:
        connector = self.network.connector if self.network else None
        if connector is None:
            return []
        return [
            (
                f"connector {connector.name!r}",
                f"project {self.project}, region {self.region}",
                "gcp.network.connector.name",
            )
        ]
