"""Settings of a Prefect Managed pool: template defaults, and optionally an AWS role the
flow runs assume with no stored key (Prefect Cloud as an OIDC identity provider)."""

from __future__ import annotations

import re
import uuid

from pydantic import Field, field_validator, model_validator

# Shared with the ECS settings: the same IAM names and policy ARNs are valid here.
from pushpools.components.aws.settings import (
    AWS_REGIONS,
    _iam,
    _iam_name,
    valid_managed_policy_arns,
)
from pushpools.components.config.base import ConfigModel, refuse_repeats
from pushpools.components.managed.pip_requirements import is_pip_requirement
from pushpools.components.modal.settings import valid_env
from pushpools.components.naming import NameRule, Naming, derive

FEDERATED_ROLE_NAME = "{pool}-flow-runs"

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
_RESOURCE = re.compile(r"^(\*|arn:aws:[a-z0-9-]*:[a-z0-9-]*:(\d{12}|\*)?:\S+)$")


class AwsPermission(ConfigModel):
    """One grant of the role: these actions, allowed on these resources."""

    actions: list[str] = Field(
        min_length=1,
        description="IAM actions, `service:Action` (wildcards allowed), e.g. `s3:GetObject`.",
    )
    resources: list[str] = Field(
        min_length=1,
        description=(
            "ARNs the actions are allowed on (or `*` where AWS authorizes an action only there)."
        ),
    )

    @field_validator("actions")
    @classmethod
    def _actions(cls, actions: list[str]) -> list[str]:
        for action in actions:
            if not _ACTION.match(action):
                raise ValueError(
                    f"{action!r} is not an IAM action; allowed: service:Action such as "
                    "'s3:GetObject' or 's3:List*'"
                )
        return actions

    @field_validator("resources")
    @classmethod
    def _resources(cls, resources: list[str]) -> list[str]:
        for resource in resources:
            if not _RESOURCE.match(resource):
                raise ValueError(
                    f"{resource!r} is not an AWS resource ARN; allowed: an ARN such as "
                    "'arn:aws:s3:::my-bucket/*', or '*'"
                )
        return resources


class AwsFederatedIdentity(ConfigModel):
    """The `managed.aws_federated_identity` section: an IAM role Prefect Cloud assumes for
    each flow run of the pool, through AWS STS AssumeRoleWithWebIdentity, with Prefect
    Cloud's OIDC token; the run gets short-lived AWS credentials and no key is stored."""

    prefect_account_id: str = Field(
        description=(
            "The Prefect Cloud account whose runs may assume the role (the UUID after `/accounts/` "
            "in the API URL): the token's subject is `prefect:account:<id>`."
        ),
    )
    region: str = Field(
        description="The AWS region Prefect injects into each run as AWS_REGION.",
    )
    role_name: str | None = Field(
        default=None,
        description="Name of the IAM role; unique per AWS account.",
    )
    managed_policy_arns: list[str] = Field(
        default=[],
        description="Managed policies attached to the role (what the flow runs need).",
    )
    statements: list[AwsPermission] = Field(
        default=[],
        description="An inline policy of the role: each entry allows its actions on its resources.",
    )
    create_oidc_provider: bool = Field(
        default=False,
        description=(
            "Create the IAM OIDC identity provider for Prefect Cloud's issuer in this stack (one "
            "per AWS account, shared by every stack there: the creating stack keeps it on "
            "destroy). Off: it must exist, and `pulumi preview` looks it up and stops, saying "
            "what to do, if the account has none."
        ),
    )

    @field_validator("prefect_account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a Prefect Cloud account ID; allowed: the UUID after "
                "/accounts/ in your Prefect Cloud API URL"
            ) from None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in AWS_REGIONS:
            raise ValueError(
                f"{value!r} is not an AWS region; allowed: " + ", ".join(sorted(AWS_REGIONS))
            )
        return value

    @field_validator("role_name")
    @classmethod
    def _role_name(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "role", 64)

    @field_validator("managed_policy_arns")
    @classmethod
    def _policy_arns(cls, arns: list[str]) -> list[str]:
        return valid_managed_policy_arns(arns)

    @model_validator(mode="after")
    def _grants_something(self) -> AwsFederatedIdentity:
        if not self.managed_policy_arns and not self.statements:
            raise ValueError(
                "the role would have no permissions; list what the flow runs need in "
                "managed_policy_arns or statements"
            )
        return self


class ManagedSettings(ConfigModel):
    """The `managed` section of a Prefect Managed pool. May be left out."""

    env: dict[str, str] = Field(
        default={},
        description=(
            "Environment variables of every flow run (the template's `env`); no secrets here: "
            "template defaults are plain text in Prefect."
        ),
    )
    pip_packages: list[str] = Field(
        default=[],
        description=(
            "Packages installed before each run (the template's `pip_packages`), e.g. `pandas>=2`, "
            "`prefect-aws[s3]`."
        ),
    )

    aws_federated_identity: AwsFederatedIdentity | None = Field(
        default=None,
        description=(
            "An AWS role each flow run assumes, with no stored key (the template's "
            "`federated_identity`)."
        ),
    )

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        return valid_env(env)

    @field_validator("pip_packages")
    @classmethod
    def _pip_packages(cls, packages: list[str]) -> list[str]:
        for package in packages:
            if not is_pip_requirement(package):
                raise ValueError(
                    f"{package!r} is not a pip requirement; allowed: a package name, "
                    "optionally with extras, a version and a marker, such as 'pandas>=2' or "
                    "'prefect-aws[s3]'"
                )
        refuse_repeats(
            packages,
            "requirement",
            fold=lambda p: p.replace(" ", "").lower(),
            clash="are the same requirement",
        )
        return packages

    def resolve_names(self, pool_name: str, naming: Naming) -> ManagedSettings:
        """A copy whose federated role has a name: unless set, derived from the pool's name
        (IAM role names are account-wide; the helper makes no such role, so `naming` has no
        helper name to offer here). The derived name does not count as set."""
        identity = self.aws_federated_identity
        if identity is None or identity.role_name is not None:
            return self
        role_name = derive(FEDERATED_ROLE_NAME, pool_name, NameRule(64))
        filled = type(identity).model_construct(
            _fields_set=set(identity.model_fields_set),
            **{**dict(identity), "role_name": role_name},
        )
        return self.model_copy(update={"aws_federated_identity": filled})

    def shared_choices(self) -> list[tuple[str, str, object]]:
        """(object, config key suffix, choice): what every pool of a stack must say alike."""
        identity = self.aws_federated_identity
        if identity is None:
            return []
        return [
            (
                "Prefect Cloud's IAM OIDC identity provider",
                "managed.aws_federated_identity.create_oidc_provider",
                identity.create_oidc_provider,
            )
        ]

    def physical_names(self) -> list[tuple[str, str, str]]:
        """(what, where it must be unique, config key suffix) for collision checks."""
        identity = self.aws_federated_identity
        if identity is None or identity.role_name is None:
            return []
        return [
            (
                _iam("role", identity.role_name),
                "AWS account",
                "managed.aws_federated_identity.role_name",
            )
        ]
