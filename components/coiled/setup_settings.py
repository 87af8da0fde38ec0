"""Settings of Coiled's own cloud setup (`coiled.cloud_setup`): what `coiled setup aws|gcp`
creates, declared by the pool instead (see aws_policies.py and gcp_roles.py for the sources).

Opt-in: without `cloud_setup` a Coiled pool creates nothing in any cloud. Names follow the
pool's `naming`: `helper` gives the names `coiled setup` itself uses (one such setup per AWS
account or GCP project), `derived` (the default) names everything after the pool.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from pushpools.components.aws.settings import _iam, _iam_name
from pushpools.components.config.base import ConfigModel
from pushpools.components.gcp.ids import checked_project_id, checked_service_account_id
from pushpools.components.naming import NameRule, Naming, fill_names

# An AWS account ID, or the ARN of an account root, role or user (what Coiled's setup page
# and its API's `allowed_principal` show as the principal to trust).
_PRINCIPAL = re.compile(
    r"^(\d{12}|arn:aws:iam::\d{12}:(root|(role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}))$",
    re.ASCII,
)
# sts:AssumeRole's ExternalId: 2-1224 characters of these (AWS STS API reference).
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
# Custom role IDs: letters, digits, underscores and periods, 3-64 (no dashes).
_GCP_ROLE_ID = re.compile(r"^[A-Za-z0-9_.]{3,64}$")

# `coiled setup aws` (default `--iam-user coiled`): its role and policies. The instance role and
# profile are named by Coiled's control plane after the workspace (Coiled's AWS reference:
# "The role name is the same as your Coiled workspace slug"); filled in from `coiled.workspace`.
AWS_HELPER_NAMES = {
    "role": "coiled-role-assumption",
    "setup_policy": "coiled-setup",
    "ongoing_policy": "coiled-ongoing",
}
_AWS_DERIVED = {
    "role": ("{pool}-coiled", NameRule(64)),
    "setup_policy": ("{pool}-coiled-setup", NameRule(128)),
    "ongoing_policy": ("{pool}-coiled-ongoing", NameRule(128)),
    "instance_role": ("{pool}-coiled-instance", NameRule(64)),
    "instance_profile": ("{pool}-coiled-instance", NameRule(128)),
}
# `coiled setup gcp` (default `--iam-user coiled`).
GCP_HELPER_NAMES = {
    "service_account": "coiled",
    "data_service_account": "coiled-data",
    "role": "coiled",
    "data_role": "coiled_data",
}
_GCP_DERIVED = {
    "service_account": ("{pool}-coiled", NameRule(30, first_is_letter=True)),
    "data_service_account": ("{pool}-coiled-data", NameRule(30, first_is_letter=True)),
    # Dashes become underscores below: role IDs take none.
    "role": ("{pool}_coiled", NameRule(64)),
    "data_role": ("{pool}_coiled_data", NameRule(64)),
}


class CoiledAwsNames(ConfigModel):
    """Names of the IAM objects of Coiled's AWS setup (unset: from the pool's `naming`)."""

    role: str | None = Field(default=None, description="The role Coiled's control plane assumes.")
    setup_policy: str | None = Field(
        default=None, description="Managed policy with Coiled's one-time setup permissions."
    )
    ongoing_policy: str | None = Field(
        default=None, description="Managed policy with the permissions Coiled uses every day."
    )
    instance_role: str | None = Field(
        default=None,
        description=(
            "Role of the cluster VMs; default `<pool>-coiled-instance` (helper: the value of "
            "`coiled.workspace`, as Coiled's control plane names it)."
        ),
    )
    instance_profile: str | None = Field(
        default=None,
        description=(
            "Instance profile of the cluster VMs; default `<pool>-coiled-instance` (helper: the "
            "value of `coiled.workspace`)."
        ),
    )

    @field_validator("role", "instance_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "role", 64)

    @field_validator("setup_policy", "ongoing_policy")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "policy", 128)

    @field_validator("instance_profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "instance profile", 128)


class CoiledAwsSetup(ConfigModel):
    """What `coiled setup aws` creates: a role Coiled's control plane assumes (no key), its
    setup and ongoing policies, and the instance role and profile of the cluster VMs."""

    coiled_principal: str = Field(
        description=(
            "The AWS principal of Coiled's control plane that the role trusts, as Coiled's "
            "setup page shows it with the external ID: an account ID or an IAM ARN."
        ),
    )
    external_id: str = Field(
        description=(
            "The external ID Coiled issued for the workspace (copy it from Coiled's setup "
            "page). Configuration, not a secret (AWS's guidance); the role trusts only it."
        ),
    )
    setup_policy_attached: bool = Field(
        default=True,
        description=(
            "Attach the setup policy. Coiled needs it until it has built the workspace's "
            "network and instance profile; Coiled says it may be detached afterwards: set "
            "false then (least privilege)."
        ),
    )
    names: CoiledAwsNames = Field(
        default=CoiledAwsNames(), description="Names of the IAM objects (unset: from `naming`)."
    )

    @field_validator("coiled_principal")
    @classmethod
    def _principal(cls, value: str) -> str:
        if not _PRINCIPAL.match(value):
            raise ValueError(
                f"{value!r} is not an AWS principal; allowed: a 12-digit account ID or an ARN "
                "such as 'arn:aws:iam::123456789012:root' or "
                "'arn:aws:iam::123456789012:role/<name>', as Coiled's setup page shows it"
            )
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str) -> str:
        if not _EXTERNAL_ID.match(value):
            raise ValueError(
                f"{value!r} is not an AWS external ID; allowed: 2-1224 letters, digits and "
                "the characters _+=,.@:/- (copy it from Coiled's setup page)"
            )
        return value

    def principal_arn(self) -> str:
        if self.coiled_principal.isdigit():
            return f"arn:aws:iam::{self.coiled_principal}:root"
        return self.coiled_principal


class CoiledGcpNames(ConfigModel):
    """Names of the service accounts and custom roles of Coiled's GCP setup."""

    service_account: str | None = Field(
        default=None, description="Account ID of the service account Coiled's control plane uses."
    )
    data_service_account: str | None = Field(
        default=None, description="Account ID of the service account the cluster VMs carry."
    )
    role: str | None = Field(
        default=None,
        description=(
            "ID of the control plane's custom role; default `<pool>_coiled`, the pool's dashes "
            "made underscores (helper: `coiled`)."
        ),
    )
    data_role: str | None = Field(
        default=None,
        description=(
            "ID of the VMs' custom role; default `<pool>_coiled_data`, the pool's dashes made "
            "underscores (helper: `coiled_data`)."
        ),
    )

    @field_validator("service_account", "data_service_account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return None if value is None else checked_service_account_id(value)

    @field_validator("role", "data_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_ROLE_ID.match(value):
            raise ValueError(
                f"{value!r} is not a valid custom role ID; allowed: 3-64 letters, digits, "
                "underscores and periods"
            )
        return value


class CoiledGcpSetup(ConfigModel):
    """What `coiled setup gcp` creates: two service accounts, their custom roles, the APIs."""

    project: str = Field(description="GCP project ID Coiled runs the clusters in.")
    enable_apis: bool = Field(
        default=True,
        description="Enable the APIs Coiled uses (compute, bigquery, logging, monitoring).",
    )
    names: CoiledGcpNames = Field(
        default=CoiledGcpNames(),
        description="Names of the service accounts and roles (unset: from `naming`).",
    )

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return checked_project_id(value)

    def email(self, account_id: str | None) -> str:
        return f"{account_id}@{self.project}.iam.gserviceaccount.com"


class CoiledCloudSetup(ConfigModel):
    """The `coiled.cloud_setup` section: Coiled's setup of exactly one cloud."""

    aws: CoiledAwsSetup | None = Field(
        default=None, description="Coiled's setup of an AWS account (`coiled setup aws`)."
    )
    gcp: CoiledGcpSetup | None = Field(
        default=None, description="Coiled's setup of a GCP project (`coiled setup gcp`)."
    )

    @model_validator(mode="after")
    def _one_cloud(self) -> CoiledCloudSetup:
        if (self.aws is None) == (self.gcp is None):
            given = "both 'aws' and 'gcp' are set" if self.aws else "neither 'aws' nor 'gcp' is set"
            raise ValueError(
                f"{given}; a Coiled workspace runs in one cloud: set exactly one of them"
            )
        return self

    def resolve_names(
        self, pool_name: str, naming: Naming, workspace: str | None
    ) -> CoiledCloudSetup:
        """A copy with every unset name filled in from the pool's name or Coiled's own. Under
        `naming: helper` without a workspace the instance role and profile stay unset
        (`missing_names` says so)."""
        sections: dict[str, object] = {}
        if self.aws is not None:
            helper = dict(AWS_HELPER_NAMES)
            derived = dict(_AWS_DERIVED)
            if naming is Naming.HELPER and workspace is None:
                derived = {k: v for k, v in derived.items() if not k.startswith("instance_")}
            elif workspace is not None:
                helper |= {"instance_role": workspace, "instance_profile": workspace}
            names = fill_names(self.aws.names, pool_name, naming, helper, derived)
            sections["aws"] = self.aws.model_copy(update={"names": names})
        if self.gcp is not None:
            names = fill_names(self.gcp.names, pool_name, naming, GCP_HELPER_NAMES, _GCP_DERIVED)
            if naming is Naming.DERIVED:
                names = names.model_copy(
                    update={
                        key: str(getattr(names, key)).replace("-", "_")
                        for key in ("role", "data_role")
                        if getattr(self.gcp.names, key) is None
                    }
                )
            sections["gcp"] = self.gcp.model_copy(update={"names": names})
        return self._with(**sections)

    def missing_names(self) -> str | None:
        """What is left unnamed after `resolve_names`, and how to name it."""
        if self.aws is None:
            return None
        unset = [
            f"names.{key}"
            for key in ("instance_role", "instance_profile")
            if getattr(self.aws.names, key) is None
        ]
        if not unset:
            return None
        return (
            "naming 'helper' names the instance role and profile after the Coiled workspace, "
            "as Coiled does, but coiled.workspace is not set; set it, or set "
            f"coiled.cloud_setup.aws.{' and '.join(unset)}"
        )

    def _with(self, **sections: object) -> CoiledCloudSetup:
        return type(self).model_construct(
            _fields_set=set(self.model_fields_set), **{**dict(self), **sections}
        )

    def physical_names(self) -> list[tuple[str, str, str]]:
        """(what, where it must be unique, config key suffix) for collision checks."""
        key = "coiled.cloud_setup"
        if self.aws is not None:
            names = self.aws.names
            return [
                (_iam(kind, getattr(names, field)), "AWS account", f"{key}.aws.names.{field}")
                for kind, field in (
                    ("role", "role"),
                    ("policy", "setup_policy"),
                    ("policy", "ongoing_policy"),
                    ("role", "instance_role"),
                    ("instance profile", "instance_profile"),
                )
            ]
        assert self.gcp is not None
        gcp, names = self.gcp, self.gcp.names
        where = f"project {gcp.project}"
        accounts = [
            (f"service account {gcp.email(getattr(names, field))!r}", field)
            for field in ("service_account", "data_service_account")
        ]
        roles = [
            (f"custom role {getattr(names, field)!r}", field) for field in ("role", "data_role")
        ]
        return [(what, where, f"{key}.gcp.names.{field}") for what, field in accounts + roles]
