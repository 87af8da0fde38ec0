"""The whole stack config: the pools, and what every pool shares."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pushpools.components.config.api_key_secret import (
    type_problem as stored_credential_type_problem,
)
from pushpools.components.config.base import ConfigModel, LazySection
from pushpools.components.config.errors import a_or_an
from pushpools.components.config.pool_types import (
    KINDS,
    POOL_KINDS,
    SUPPORTED_CLOUDS,
    Cloud,
    PoolKind,
    PoolType,
)
from pushpools.components.config.prefect import PoolPrefectSettings, PrefectSettings
from pushpools.components.config.shared_choices import disagreement_problems
from pushpools.components.naming import Naming
from pushpools.components.tagging import OWN_LABELS

# Prefect block names allow lowercase letters, digits and dashes; pool names become part
# of block names, child resource names and cloud labels, so they follow the same rule.
_POOL_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_BLOCK_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# GCP label rules are the strictest of the clouds we tag.
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# AWS tags (IAM, ECS and ECR enforce the character set): keys 1-128, values up to 256,
# and the `aws:` prefix is AWS's own.
_AWS_TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")
_AWS_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")
# Azure tags: names up to 512 characters without < > % & \ ? /, values up to 256.
_AZURE_TAG_NAME = re.compile(r"^[^<>%&\\?/]{1,512}$")
_AZURE_TAG_VALUE_MAX = 256
# AWS (IAM, ECS, ECR, EC2, Logs) and Azure (every resource) allow at most 50 tags each.
_MAX_TAGS_PER_RESOURCE = 50
# Each cloud's section is validated by its settings model (its registry row), imported only
# for a pool of that cloud (see LazySection). Components read the sections as these models.
GcpSection = Annotated[Any, LazySection(Cloud.GCP)]
AwsSection = Annotated[Any, LazySection(Cloud.AWS)]
AzureSection = Annotated[Any, LazySection(Cloud.AZURE)]
ModalSection = Annotated[Any, LazySection(Cloud.MODAL)]
ManagedSection = Annotated[Any, LazySection(Cloud.MANAGED)]
CoiledSection = Annotated[Any, LazySection(Cloud.COILED)]
# Kinds that create no named resource, or only when their section opts in: every setting has
# a default, the section may be left out.
_OPTIONAL_SECTIONS = frozenset(
    k.cloud for k in KINDS if not k.creates_cloud_resources or k.cloud_resources_opt_in
)


class PoolConfig(ConfigModel):
    """One Prefect work pool and the cloud infrastructure behind it."""

    name: str = Field(
        description=(
            "Work-pool name in Prefect; also names the credentials block and the cloud resources."
        ),
    )
    type: PoolType = Field(
        description="Work-pool type in Prefect; decides the cloud section the pool takes."
    )
    naming: Naming = Field(
        default=Naming.DERIVED,
        description=(
            "How unset physical names are made: `derived` from the pool's name (the default; pools "
            "and stacks side by side never collide) or `helper`, the fixed names Prefect's "
            "`--provision-infra` uses. Names given under the cloud section's `names` win in both."
        ),
    )
    description: str | None = Field(
        default=None, description="Description of the work pool in Prefect."
    )
    credentials_block_name: str | None = Field(
        default=None,
        description=(
            "Override of the credentials block's name (default as Prefect's helper names it)."
        ),
    )
    gcp: GcpSection = Field(
        default=None,
        description=(
            "Settings of a Cloud Run pool (types cloud-run:push, cloud-run-v2:push, cloud-run, "
            "cloud-run-v2)."
        ),
    )
    aws: AwsSection = Field(
        default=None, description="Settings of an ECS pool (types ecs:push, ecs)."
    )
    azure: AzureSection = Field(
        default=None,
        description=(
            "Settings of an Azure Container Instances pool (types azure-container-instance:push, "
            "azure-container-instance)."
        ),
    )
    modal: ModalSection = Field(
        default=None, description="Settings of a Modal pool (type modal:push); may be left out."
    )
    managed: ManagedSection = Field(
        default=None,
        description="Settings of a Prefect Managed pool (type prefect:managed); may be left out.",
    )
    coiled: CoiledSection = Field(
        default=None,
        description="Settings of a Coiled pool (types coiled:push, coiled).",
    )
    prefect: PoolPrefectSettings = Field(
        default=PoolPrefectSettings(),
        description="How the pool's block and work pool are registered in Prefect.",
    )

    @model_validator(mode="before")
    @classmethod
    def _omitted_section_means_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") in tuple(PoolType):
            cloud = POOL_KINDS[PoolType(data["type"])].cloud
            if cloud in _OPTIONAL_SECTIONS and data.get(cloud.value) is None:
                return {**data, cloud.value: {}}
        return data

    @field_validator("gcp", "aws", "azure", "managed", "coiled")
    @classmethod
    def _resolve_names(cls, section: Any, info: ValidationInfo) -> Any:
        # Components and the collision checks read the final names. Without a valid pool
        # name or naming there is nothing to derive from; that problem is reported itself.
        if section is None or "name" not in info.data or "naming" not in info.data:
            return section
        return section.resolve_names(info.data["name"], info.data["naming"])

    @field_validator("name")
    @classmethod
    def _pool_name(cls, value: str) -> str:
        if value.lower().startswith("prefect"):
            raise ValueError(
                f"{value!r} is refused by Prefect: work-pool names may not start with 'prefect'"
            )
        if not _POOL_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid pool name; allowed: 1-63 lowercase letters, digits "
                "and dashes, starting and ending with a letter or digit"
            )
        return value

    @field_validator("credentials_block_name")
    @classmethod
    def _block_name(cls, value: str | None) -> str | None:
        if value is not None and not _BLOCK_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid Prefect block name; allowed: lowercase letters, "
                "digits and dashes"
            )
        return value

    @model_validator(mode="after")
    def _settings_match_type(self) -> PoolConfig:
        cloud = self.kind.cloud
        if cloud not in SUPPORTED_CLOUDS:
            supported = sorted(
                t.value for t, k in POOL_KINDS.items() if k.cloud in SUPPORTED_CLOUDS
            )
            raise ValueError(
                f"pool type {self.type.value!r} is not yet supported by this version of "
                f"pushpools; supported types: {', '.join(supported)}"
            )
        for other in Cloud:
            section = getattr(self, other.value, None)
            if other is cloud and section is None and other.value in type(self).model_fields:
                raise ValueError(
                    f"pool {self.name!r} of type {self.type.value!r} needs "
                    f"{a_or_an(repr(other.value))} section with its cloud settings"
                )
            if other is not cloud and section is not None:
                raise ValueError(
                    f"pool {self.name!r} of type {self.type.value!r} cannot have a "
                    f"{other.value!r} section; it takes {cloud.value!r}"
                )
        return self

    @model_validator(mode="after")
    def _naming_needs_names(self) -> PoolConfig:
        section = getattr(self, self.kind.cloud.value, None)
        # A section that opts in to cloud resources (Coiled's cloud_setup) says whether it did.
        opted_in = getattr(section, "creates_cloud_resources", None)
        creates = opted_in() if opted_in is not None else self.kind.creates_cloud_resources
        if "naming" in self.model_fields_set and not creates:
            unless = f" unless {self.kind.cloud.value}.cloud_setup is set" if opted_in else ""
            raise ValueError(
                f"naming {self.naming.value!r} is set, but {a_or_an(repr(self.type.value))} "
                f"pool creates nothing with a physical name{unless}; remove naming"
            )
        # A name the naming mode cannot give (Coiled's helper names need the workspace).
        naming_problem = getattr(section, "naming_problem", None)
        problem = naming_problem() if naming_problem is not None else None
        if problem is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _block_name_needs_a_block(self) -> PoolConfig:
        if self.credentials_block_name is not None and self.kind.block_type_slug is None:
            raise ValueError(
                f"credentials_block_name {self.credentials_block_name!r} is set, but "
                f"{a_or_an(repr(self.type.value))} pool has no credentials block; "
                "remove credentials_block_name"
            )
        return self

    @model_validator(mode="after")
    def _stored_credentials_fit_type(self) -> PoolConfig:
        problem = stored_credential_type_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def kind(self) -> PoolKind:
        return POOL_KINDS[self.type]

    @property
    def block_name(self) -> str | None:
        if self.kind.block_type_slug is None:
            return None
        return self.credentials_block_name or self.kind.default_block_name.format(pool=self.name)

    def secret_config_keys(self) -> dict[str, str]:
        """Top-level secret config keys this pool reads -> the setting that names each."""
        section = getattr(self, self.kind.cloud.value, None)
        secret_config_keys = getattr(section, "secret_config_keys", None)
        return secret_config_keys() if secret_config_keys is not None else {}

    def physical_names(self) -> list[tuple[str, str, str]]:
        section = getattr(self, self.kind.cloud.value, None)
        physical_names = getattr(section, "physical_names", None)
        names = physical_names() if physical_names is not None else []
        if self.block_name is not None:
            names.append(
                (
                    f"credentials block {self.block_name!r}",
                    f"block type {self.kind.block_type_slug}",
                    "credentials_block_name",
                )
            )
        return names


class StackConfig(ConfigModel):
    """Everything under the `pushpools:` namespace of a stack config."""

    pools: list[PoolConfig] = Field(
        min_length=1, description="The work pools, each with the cloud resources behind it."
    )
    labels: dict[str, str] = Field(
        default={},
        description=(
            "Labels (GCP) / tags (AWS, Azure) for every resource, besides `managed-by: pushpools` "
            "and `prefect-work-pool: <pool>`."
        ),
    )
    prefect: PrefectSettings = Field(
        default=PrefectSettings(),
        description="Whether and where the pools are registered in Prefect.",
    )

    @model_validator(mode="after")
    def _pools_fit_together(self) -> StackConfig:
        pools = list(enumerate(self.pools))
        problems = collision_problems(pools) + label_problems(self.labels, pools)
        if problems:
            # Each line names its own key (see describe_validation_error).
            raise ValueError("\n".join(problems))
        return self


def collision_problems(pools: Sequence[tuple[int, PoolConfig]]) -> list[str]:
    """Pool names and physical names used twice, across pools or inside one pool, and
    choices about a shared object that pools make differently (see shared_choices).

    `pools` are the valid pools with their index in the stack config: with some pools
    invalid, the others are still checked, so that every problem shows in one pass."""
    problems: list[str] = []
    by_index = dict(pools)
    seen_pools: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    for index, pool in pools:
        if pool.name in seen_pools:
            problems.append(
                f"pushpools:pools[{index}].name: {pool.name!r} is already the name of "
                f"pools[{seen_pools[pool.name]}]; pool names must be unique"
            )
        seen_pools.setdefault(pool.name, index)
        in_pool: dict[tuple[str, str], str] = {}
        for what, where, key in pool.physical_names():
            first = seen_names.setdefault((what, where), index)
            first_key = in_pool.setdefault((what, where), key)
            if first_key != key:
                problems.append(
                    f"pushpools:pools[{index}].{key}: {what} in {where} is also this "
                    f"pool's {first_key}; each needs a name of its own"
                )
            elif first != index:
                problems.append(
                    f"pushpools:pools[{index}].{key}: {what} in {where} is already used by "
                    f"pool {by_index[first].name!r}; give one of them another name"
                )
    return problems + disagreement_problems(pools)


def label_problems(labels: Mapping[str, str], pools: Sequence[tuple[int, PoolConfig]]) -> list[str]:
    """Labels that a cloud some pool uses would refuse, one problem per label; checked here
    because the cloud would refuse them half-way through `pulumi up`."""
    clouds = {pool.kind.cloud for _, pool in pools}
    # A Managed pool's keyless AWS access is an IAM role, tagged like the ECS resources.
    if any(getattr(p.managed, "aws_federated_identity", None) for _, p in pools):
        clouds.add(Cloud.AWS)
    problems: list[str] = []
    seen_azure: dict[str, str] = {}
    for key, value in labels.items():
        if key in OWN_LABELS:
            problems.append(
                f"pushpools:labels.{key}: is set by pushpools itself on every resource "
                f"({OWN_LABELS[0]}: pushpools, {OWN_LABELS[1]}: <pool>); choose another key"
            )
            continue
        problem = (
            (_gcp_label_problem(key, value) if Cloud.GCP in clouds else None)
            or (_aws_tag_problem(key, value) if Cloud.AWS in clouds else None)
            or (_azure_tag_problem(key, value) if Cloud.AZURE in clouds else None)
        )
        if problem is None and Cloud.AZURE in clouds:
            first = seen_azure.setdefault(key.lower(), key)
            if first != key:
                problem = (
                    f"{key!r} and {first!r} are one tag name in Azure, which ignores case "
                    "in tag names; keep one of them"
                )
        if problem:
            problems.append(f"pushpools:labels.{key}: {problem}")
    allowed = _MAX_TAGS_PER_RESOURCE - len(OWN_LABELS)
    if clouds & {Cloud.AWS, Cloud.AZURE} and len(labels) > allowed:
        problems.append(
            f"pushpools:labels: {len(labels)} labels are set; AWS and Azure allow at most "
            f"{_MAX_TAGS_PER_RESOURCE} tags per resource and pushpools sets "
            f"{len(OWN_LABELS)} itself, so at most {allowed}"
        )
    return problems


def _gcp_label_problem(key: str, value: str) -> str | None:
    if not _GCP_LABEL_KEY.match(key):
        return (
            f"key {key!r} is not allowed on GCP resources; allowed: lowercase letters, "
            "digits, '_' and '-', starting with a letter, at most 63 characters"
        )
    if not _GCP_LABEL_VALUE.match(value):
        return (
            f"value {value!r} is not allowed on GCP resources; allowed: lowercase letters, "
            "digits, '_' and '-', at most 63 characters"
        )
    return None


def _aws_tag_problem(key: str, value: str) -> str | None:
    if not _AWS_TAG_KEY.match(key) or key.lower().startswith("aws:"):
        return (
            f"key {key!r} is not allowed as an AWS tag key; allowed: 1-128 letters, digits, "
            "spaces and _.:/=+-@, not starting with 'aws:'"
        )
    if not _AWS_TAG_VALUE.match(value):
        return (
            f"value {value!r} is not allowed as an AWS tag value; allowed: up to 256 "
            "letters, digits, spaces and _.:/=+-@"
        )
    return None


def _azure_tag_problem(key: str, value: str) -> str | None:
    if not _AZURE_TAG_NAME.match(key):
        return (
            f"key {key!r} is not allowed as an Azure tag name; allowed: 1-512 characters, "
            "none of < > % & \\ ? /"
        )
    if len(value) > _AZURE_TAG_VALUE_MAX:
        return (
            f"value is {len(value)} characters long; Azure tag values allow at most "
            f"{_AZURE_TAG_VALUE_MAX}"
        )
    return None
