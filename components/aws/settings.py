"""Settings of an ECS pool (`ecs:push`, or the `ecs` worker type for self-hosted Prefect)."""

from __future__ import annotations

import ipaddress
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
from pushpools.components.naming import NameRule, Naming, fill_names
from pushpools.components.tagging import slug

# The commercial partition (`aws`): every ARN pushpools writes assumes it. China, GovCloud
# and the sovereign partitions need other ARNs and other credentials.
AWS_REGIONS = frozenset(
    [
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ]
)

# Region prefixes of the other partitions, which a close match must not paper over
# ("us-gov-west-1" is not a typo of "us-west-1").
_OTHER_PARTITIONS = (
    ("us-gov-", "AWS GovCloud (partition aws-us-gov)"),
    ("cn-", "AWS China (partition aws-cn)"),
    ("us-iso", "an AWS isolated partition"),
    ("eusc-", "the AWS European Sovereign Cloud (partition aws-eusc)"),
)

# The only values CloudWatch Logs' PutRetentionPolicy accepts.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip

# IAM names are ASCII only (`\w` alone would let any Unicode letter through).
_IAM_NAME = re.compile(r"^[\w+=,.@-]+$", re.ASCII)
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_REPOSITORY_NAME = re.compile(
    r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)
_LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
# EC2 accepts these in a VPC security group's name; it may not start with "sg-".
_SECURITY_GROUP_NAME = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
_MANAGED_POLICY_ARN = re.compile(r"^arn:aws:iam::(aws|\d{12}):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")
# awsvpc network configuration: at most 16 subnets (ECS RunTask's AwsVpcConfiguration).
_MAX_SUBNETS = 16
_VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")


def _iam_name(value: str, what: str, max_length: int) -> str:
    if not (_IAM_NAME.match(value) and len(value) <= max_length):
        raise ValueError(
            f"{value!r} is not a valid IAM {what} name; allowed: 1-{max_length} ASCII letters, "
            "digits and the characters _+=,.@-"
        )
    return value


# The names Prefect's `--provision-infra` helper gives (`naming: helper`).
HELPER_NAMES = {
    "execution_role": "PrefectEcsTaskExecutionRole",
    "task_role": "PrefectEcsTaskRole",
    "user": "prefect-ecs-user",
    "policy": "prefect-ecs-policy",
    "cluster": "prefect-ecs-cluster",
    "repository": "prefect-flows",
    "security_group": "prefect-ecs-security-group",
    "vpc": "prefect-ecs-vpc",
}
# Derived names (`naming: derived`, the default): the pool's name and a suffix, within
# each name's length limit (IAM roles and users 64, policies 128, tag values 256).
_DERIVED = {
    "execution_role": ("{pool}-execution-role", NameRule(64)),
    "task_role": ("{pool}-task-role", NameRule(64)),
    "user": ("{pool}-prefect", NameRule(64)),
    "policy": ("{pool}-prefect-policy", NameRule(128)),
    "cluster": ("{pool}-cluster", NameRule(255)),
    "repository": ("{pool}-flows", NameRule(256)),
    "security_group": ("{pool}-tasks", NameRule(255, refused_prefix="sg-")),
    "vpc": ("{pool}-vpc", NameRule(256)),
}


class ContainerInsights(StrEnum):
    """CloudWatch Container Insights for the cluster."""

    DISABLED = "disabled"
    ENABLED = "enabled"
    ENHANCED = "enhanced"


class LaunchType(StrEnum):
    """How the tasks run by default."""

    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"


class EcsNames(ConfigModel):
    """Physical names. Unset ones are derived from the pool's name (`naming: derived`,
    e.g. `<pool>-cluster`) or are the helper's (`naming: helper`).

    IAM names are unique per AWS account and the others per region; the stack config check
    says which of them two pools of one stack would share.
    """

    execution_role: str | None = Field(
        default=None,
        description="IAM role the ECS agent uses to pull images and write logs.",
    )
    task_role: str | None = Field(
        default=None,
        description="IAM role the flow code runs as; created only with a `task_role` section.",
    )
    user: str | None = Field(
        default=None,
        description="IAM user Prefect acts as; its access key goes into the credentials block.",
    )
    policy: str | None = Field(
        default=None,
        description="Customer-managed IAM policy holding what Prefect may do.",
    )
    cluster: str | None = Field(default=None, description="ECS cluster the tasks run in.")
    repository: str | None = Field(
        default=None,
        description="ECR repository for flow images.",
    )
    security_group: str | None = Field(
        default=None, description="Security group of the tasks (in a new VPC, or in `vpc_id`)."
    )
    log_group: str | None = Field(
        default=None,
        description=(
            "CloudWatch log group of the pool's tasks; default `/ecs/<cluster>` (the helper makes "
            "none, and the worker's own default, `prefect`, is shared by every pool)."
        ),
    )
    vpc: str | None = Field(
        default=None,
        description="`Name` tag of a VPC pushpools creates.",
    )

    @field_validator("execution_role", "task_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "role", 64)

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "user", 64)

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "policy", 128)

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid ECS cluster name; allowed: 1-255 letters, digits, "
                "hyphens and underscores"
            )
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not (_REPOSITORY_NAME.match(value) and 2 <= len(value) <= 256):
            raise ValueError(
                f"{value!r} is not a valid ECR repository name; allowed: 2-256 lowercase "
                "letters and digits, separated by '.', '_', '__', '-' or '/' "
                "(e.g. 'prefect-flows' or 'team/flows')"
            )
        return value

    @field_validator("security_group")
    @classmethod
    def _security_group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower().startswith("sg-") or not _SECURITY_GROUP_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid security group name; allowed: 1-255 letters, "
                "digits, spaces and ._-:/()#,@[]+=&;{}!$*, not starting with 'sg-'"
            )
        return value

    @field_validator("log_group")
    @classmethod
    def _log_group(cls, value: str | None) -> str | None:
        if value is not None and (not _LOG_GROUP_NAME.match(value) or value.startswith("aws/")):
            raise ValueError(
                f"{value!r} is not a valid CloudWatch log group name; allowed: 1-512 letters, "
                "digits and ._-/#, not starting with 'aws/'"
            )
        return value

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/ecs/{self.cluster}"


class Egress(StrEnum):
    """How the tasks of a new VPC reach ECR, CloudWatch Logs, Prefect and the internet."""

    PUBLIC = "public"
    NAT = "nat"
    ENDPOINTS = "endpoints"


class NatGateways(StrEnum):
    """How many NAT gateways `egress: nat` creates."""

    ONE = "one"
    PER_ZONE = "per_zone"


class ExtraEndpoint(StrEnum):
    """Interface endpoints `egress: endpoints` can add to the ones every task needs."""

    SECRETSMANAGER = "secretsmanager"
    SSM = "ssm"
    STS = "sts"


# What a Fargate task needs to start and log with no route to the internet: the image
# manifest (ecr.api, ecr.dkr), its layers (S3, a gateway endpoint) and awslogs (logs).
# Fargate needs no ECS endpoints ("Amazon ECS interface VPC endpoints", ECS guide).
REQUIRED_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")


class EcsNetwork(ConfigModel):
    """Where the tasks run: an existing VPC and subnets, or a new VPC (the default)."""

    vpc_id: Annotated[str | None, FromAnotherResource("vpc-00000000")] = Field(
        default=None,
        description="An existing VPC; pushpools then creates only the security group in it.",
    )
    subnet_ids: Annotated[list[str], FromAnotherResource(["subnet-00000000"])] = Field(
        default=[],
        validate_default=True,
        description="Subnets of `vpc_id` the tasks run in (required with `vpc_id`).",
    )
    cidr_block: str | None = Field(
        default=None,
        description=(
            "CIDR of a new VPC (default 10.0.0.0/16); it gets one public subnet per availability "
            "zone where Fargate runs, in up to three zones, each a quarter of the VPC (with "
            "`egress` nat or endpoints: a private subnet per zone, each an eighth)."
        ),
    )
    # --- Private networking of a new VPC (issue 22) ----------------------------------
    egress: Egress | None = Field(
        default=None,
        description=(
            "How a new VPC's tasks reach ECR, logs, Prefect and the internet. `public` (the "
            "default): public subnets and a public IP per task. `nat`: private subnets, no "
            "public IP, out through a NAT gateway. `endpoints`: private subnets with no route "
            "to the internet at all, only VPC endpoints for ECR, S3 and CloudWatch Logs (the "
            "flow run must reach Prefect privately, e.g. a self-hosted server or Prefect "
            "Cloud's PrivateLink). Not with `vpc_id`."
        ),
    )
    nat_gateways: NatGateways | None = Field(
        default=None,
        description=(
            "With `egress: nat`: `one` NAT gateway for all zones (the default, cheapest) or "
            "`per_zone` (tasks keep their egress when one zone fails; each costs its hourly "
            "charge)."
        ),
    )
    extra_endpoints: list[ExtraEndpoint] = Field(
        default=[],
        description=(
            "With `egress: endpoints`: interface endpoints beyond ecr.api, ecr.dkr and logs. "
            "`secretsmanager` or `ssm` when task definitions reference secrets or parameters "
            "(the ECS agent fetches them before the container starts), `sts` when flow code "
            "assumes roles. Each is billed per zone and hour."
        ),
    )
    assign_public_ip: bool | None = Field(
        default=None,
        description=(
            "Give tasks a public IP, so that they reach ECR and Prefect without a NAT gateway. "
            "Default: true in public subnets (a new VPC's default egress, or `vpc_id`), false "
            "with `egress` nat or endpoints. Set false for an existing VPC's private subnets."
        ),
    )

    @field_validator("vpc_id")
    @classmethod
    def _vpc_id(cls, value: str | None) -> str | None:
        if value is not None and not _VPC_ID.match(value):
            raise ValueError(f"{value!r} is not a VPC ID; allowed: 'vpc-' and 8 or 17 hex digits")
        return value

    @field_validator("subnet_ids")
    @classmethod
    def _subnet_ids(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bad = [s for s in value if not _SUBNET_ID.match(s)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a subnet ID; allowed: 'subnet-' and 8 or 17 hex digits"
            )
        refuse_repeats(value, "subnet")
        if len(value) > _MAX_SUBNETS:
            raise ValueError(
                f"{len(value)} subnets are listed; an ECS task's network configuration takes "
                f"at most {_MAX_SUBNETS}"
            )
        if "vpc_id" not in info.data:  # vpc_id itself is invalid, and reported
            return value
        vpc_id = info.data["vpc_id"]
        if value and vpc_id is None:
            raise ValueError(
                f"{value!r} are set without vpc_id; subnets belong to an existing VPC: "
                "set network.vpc_id too, or remove subnet_ids to create a new VPC"
            )
        if vpc_id is not None and not value:
            raise ValueError(
                f"vpc_id {vpc_id!r} is set, but no subnets; list the subnets of that VPC "
                "the tasks run in"
            )
        return value

    @field_validator("cidr_block")
    @classmethod
    def _cidr_block(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("vpc_id") is not None:
            raise ValueError(
                f"{value!r} is the CIDR of a new VPC, but vpc_id names an existing one; "
                "set one of them"
            )
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            try:
                # Host bits set (10.20.1.0/16): the network it lies in is the likely intent.
                meant = str(ipaddress.IPv4Network(value, strict=False))
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an IPv4 network in CIDR notation (e.g. '10.0.0.0/16')"
                ) from None
            raise ValueError(
                f"{value!r} has host bits set, so it is not a network address; "
                f"did you mean {meant!r}?"
            ) from None
        if network.is_link_local or network.is_multicast or network.is_loopback:
            kind = (
                "link-local"
                if network.is_link_local
                else "multicast"
                if network.is_multicast
                else "loopback"
            )
            raise ValueError(
                f"{value!r} is a {kind} range, which AWS does not allow as a VPC CIDR; "
                "use a private range such as '10.0.0.0/16', '172.16.0.0/16' or '192.168.0.0/16'"
            )
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(
                f"{value!r} is not allowed; a new VPC's prefix length must be /16 to /24, "
                "so that each of its subnets can hold tasks"
            )
        return str(network)

    @field_validator("egress")
    @classmethod
    def _egress(cls, value: Egress | None, info: ValidationInfo) -> Egress | None:
        if value is not None and info.data.get("vpc_id") is not None:
            raise ValueError(
                f"{value.value!r} describes the subnets of a new VPC, but vpc_id names an "
                "existing one; remove egress, and for that VPC's private subnets set "
                "assign_public_ip: false"
            )
        return value

    @field_validator("nat_gateways")
    @classmethod
    def _nat_gateways(cls, value: NatGateways | None, info: ValidationInfo) -> NatGateways | None:
        if value is None or "egress" not in info.data:  # an invalid egress is reported
            return value
        if info.data["egress"] is not Egress.NAT:
            raise ValueError(
                f"{value.value!r} is set, but egress is {_egress_named(info.data['egress'])}, "
                "which creates no NAT gateway; set egress: nat, or remove nat_gateways"
            )
        return value

    @field_validator("extra_endpoints")
    @classmethod
    def _extra_endpoints(
        cls, value: list[ExtraEndpoint], info: ValidationInfo
    ) -> list[ExtraEndpoint]:
        refuse_repeats([e.value for e in value], "endpoint")
        if value and "egress" in info.data and info.data["egress"] is not Egress.ENDPOINTS:
            raise ValueError(
                f"{[e.value for e in value]!r} are set, but egress is "
                f"{_egress_named(info.data['egress'])}, which creates no interface endpoints "
                "(tasks reach these services through the NAT gateway or their public IP); "
                "set egress: endpoints, or remove extra_endpoints"
            )
        return value

    @field_validator("assign_public_ip")
    @classmethod
    def _public_ip(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value is None or "egress" not in info.data or info.data.get("vpc_id", "") is not None:
            return value  # an existing VPC's subnets may be public or private
        egress = info.data["egress"] or Egress.PUBLIC
        if not value and egress is Egress.PUBLIC:
            raise ValueError(
                "false is not allowed for a new VPC with public subnets and no NAT gateway "
                "(egress: public, the default): tasks without a public IP could not pull images "
                "there; for private subnets set egress: nat or egress: endpoints (and no "
                "assign_public_ip)"
            )
        if value and egress is not Egress.PUBLIC:
            raise ValueError(
                f"true is not allowed with egress: {egress.value}: the tasks run in private "
                "subnets, where a public IP reaches nothing; remove assign_public_ip"
            )
        return value

    @property
    def new_vpc_cidr(self) -> str:
        return self.cidr_block or "10.0.0.0/16"

    @property
    def new_vpc_egress(self) -> Egress:
        return self.egress or Egress.PUBLIC

    @property
    def public_ip(self) -> bool:
        """Whether tasks get a public IP (the template's `assignPublicIp`)."""
        if self.assign_public_ip is not None:
            return self.assign_public_ip
        return self.vpc_id is not None or self.new_vpc_egress is Egress.PUBLIC

    def interface_endpoints(self, *, secrets_manager: bool = False) -> list[str]:
        """The interface endpoints (service name suffixes) a new VPC gets: none unless
        `egress: endpoints`. `secrets_manager`: task definitions reference Secrets Manager
        (the ECS agent then needs its endpoint), whatever `extra_endpoints` says."""
        if self.vpc_id is not None or self.new_vpc_egress is not Egress.ENDPOINTS:
            return []
        extra = [e.value for e in self.extra_endpoints]
        if secrets_manager:
            extra.append(ExtraEndpoint.SECRETSMANAGER.value)
        return [*REQUIRED_INTERFACE_ENDPOINTS, *dict.fromkeys(extra)]


def _egress_named(egress: Egress | None) -> str:
    return "public (the default)" if egress is None else egress.value


class EcsTaskRole(ConfigModel):
    """A role for the flow code itself (the helper makes none: tasks get no AWS identity)."""

    managed_policy_arns: list[str] = Field(
        default=[],
        description=(
            "Managed policies the flow code needs, e.g. "
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess."
        ),
    )

    @field_validator("managed_policy_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        return valid_managed_policy_arns(value)


def valid_managed_policy_arns(value: list[str]) -> list[str]:
    """IAM managed policy ARNs, each once (also a Managed pool's federated role's)."""
    bad = [arn for arn in value if not _MANAGED_POLICY_ARN.match(arn)]
    if bad:
        raise ValueError(
            f"{bad[0]!r} is not an IAM managed policy ARN; allowed: "
            "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<12-digit account>:policy/<name>"
        )
    refuse_repeats(value, "policy", fold=slug)
    return value


class EcrSettings(ConfigModel):
    """The flow-image repository. Images are always scanned on push."""

    immutable_tags: bool = Field(
        default=False,
        description="Refuse to overwrite a pushed tag (off by default: many teams push `latest`).",
    )
    keep_last_images: int = Field(
        default=100,
        ge=1,
        le=10000,
        description="A lifecycle policy expires all but the newest this many images.",
    )
    delete_images_on_destroy: bool = Field(
        default=False,
        description=(
            "Let `pulumi destroy` delete the repository with its images (ECR's force delete). Off: "
            "the repository is protected, and destroy stops before deleting anything, naming it "
            "(ECR would otherwise refuse to delete a repository with images, halfway)."
        ),
    )


class EcsSettings(ConfigModel):
    """The `aws` section of an ECS pool."""

    region: str = Field(
        description="Region of the cluster, registry, logs and network (IAM is global).",
    )
    names: EcsNames = Field(
        default=EcsNames(),
        description=(
            "Physical names; unset ones are derived from the pool's name (`naming: derived`) "
            "or are the names Prefect's helper gives (`naming: helper`)."
        ),
    )
    network: EcsNetwork = Field(
        default=EcsNetwork(), description="Where the tasks run; default: a new VPC."
    )
    log_retention_days: int | None = Field(
        default=30,
        description="Days CloudWatch keeps the tasks' logs; null keeps them forever.",
    )
    container_insights: ContainerInsights = Field(
        default=ContainerInsights.DISABLED,
        description="CloudWatch Container Insights for the cluster (billed per metric).",
    )
    launch_type: LaunchType = Field(
        default=LaunchType.FARGATE,
        description=(
            "The template's default; the cluster offers both capacity providers either way."
        ),
    )
    task_role: EcsTaskRole | None = Field(
        default=None, description="Create a role for the flow code; default: none."
    )
    ecr: EcrSettings = Field(default=EcrSettings(), description="The flow-image repository.")
    attach_ecs_full_access: bool = Field(
        default=False,
        description=(
            "Also attach AmazonECS_FullAccess to Prefect's user, as Prefect's manual setup says. "
            "Broad (every ECS resource, and more): only when the least-privilege policy is not "
            "enough."
        ),
    )
    existing_user_name: str | None = Field(
        default=None,
        description=(
            "Act as this existing IAM user instead of creating one (its policy and a new access "
            "key are still added). IAM allows two keys per user, and a rotation holds the old "
            "and the new key at once: the user must hold no other key when key_generation is "
            "bumped (at most one other for the first `pulumi up`)."
        ),
    )
    create_service_linked_role: bool = Field(
        default=False,
        description=(
            "Create the ECS service-linked role AWSServiceRoleForECS, which the cluster's "
            "capacity providers need, in this stack (once per account: the stack keeps it on "
            "destroy). Off: it must exist, and `pulumi preview` looks it up and stops, saying "
            "what to do, if the account has none."
        ),
    )
    key_generation: int = Field(
        default=1,
        ge=1,
        description=(
            "Bump to rotate the access key: a new key is created and put in the block, then the "
            "old key is deleted (two keys of the user for a moment)."
        ),
    )

    # The Prefect API key in the cloud's secret store (config/api_key_secret.py).
    prefect_api_key_secret: ApiKeySecretSettings | None = Field(
        default=None, description=API_KEY_DESCRIPTION
    )
    prefect_api_auth_string_secret: AuthStringSecretSettings | None = Field(
        default=None, description=AUTH_STRING_DESCRIPTION
    )

    def secret_config_keys(self) -> dict[str, str]:
        """Top-level secret config keys this pool reads -> the setting that names each."""
        return secret_config_keys(self, Cloud.AWS)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        partition = next((p for prefix, p in _OTHER_PARTITIONS if value.startswith(prefix)), None)
        if partition is not None:
            raise ValueError(
                f"{value!r} is in {partition}, which pushpools does not support (its ARNs, "
                "endpoints and credentials differ); allowed: a region of the commercial "
                "partition: " + ", ".join(sorted(AWS_REGIONS))
            )
        if value not in AWS_REGIONS:
            hint = get_close_matches(value, AWS_REGIONS, n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(
                f"{value!r} is not an AWS region{did_you_mean}; allowed: "
                + ", ".join(sorted(AWS_REGIONS))
            )
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"{value!r} is not a retention CloudWatch Logs allows; allowed: "
                + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
                + ", or null to keep logs forever"
            )
        return value

    @field_validator("existing_user_name")
    @classmethod
    def _existing_user(cls, value: str | None) -> str | None:
        return None if value is None else _iam_name(value, "user", 64)

    @model_validator(mode="after")
    def _one_user(self) -> EcsSettings:
        if self.existing_user_name is not None and self.names.user is not None:
            raise ValueError(
                f"names.user {self.names.user!r} is set next to existing_user_name "
                f"{self.existing_user_name!r}, which means no user is created; give either "
                "existing_user_name (use a user) or names.user (create one), not both"
            )
        return self

    @model_validator(mode="after")
    def _names_of_what_is_created(self) -> EcsSettings:
        # A name for something this pool does not create would be silently ignored.
        if self.names.task_role is not None and self.task_role is None:
            raise ValueError(
                f"names.task_role {self.names.task_role!r} is set, but there is no task_role "
                "section, so no task role is created; add `task_role: {}` (with any "
                "managed_policy_arns) or remove names.task_role"
            )
        if self.names.vpc is not None and self.network.vpc_id is not None:
            raise ValueError(
                f"names.vpc {self.names.vpc!r} is set, but network.vpc_id uses an existing "
                "VPC, so none is created; remove names.vpc"
            )
        return self

    def resolve_names(self, pool_name: str, naming: Naming) -> EcsSettings:
        """A copy with every unset name filled in (explicit names win in both modes)."""
        names = fill_names(self.names, pool_name, naming, HELPER_NAMES, _DERIVED)
        secrets = resolve_secret_names(self, pool_name, naming)
        return self.model_copy(update={"names": names, **secrets})

    @property
    def user_name(self) -> str | None:
        return self.existing_user_name or self.names.user

    def shared_choices(self) -> list[tuple[str, str, object]]:
        """(object, config key suffix, choice): what every pool of a stack must say alike."""
        return [
            (
                "the ECS service-linked role AWSServiceRoleForECS",
                "aws.create_service_linked_role",
                self.create_service_linked_role,
            )
        ]

    def physical_names(self) -> list[tuple[str, str, str]]:
        """(what, where it must be unique, config key suffix) for collision checks."""
        account = "AWS account"
        region = f"region {self.region}"
        names = [
            (_iam("role", self.names.execution_role), account, "aws.names.execution_role"),
            (
                _iam("user", self.user_name),
                account,
                "aws.existing_user_name" if self.existing_user_name else "aws.names.user",
            ),
            (_iam("policy", self.names.policy), account, "aws.names.policy"),
            (f"ECS cluster {self.names.cluster!r}", region, "aws.names.cluster"),
            (f"ECR repository {self.names.repository!r}", region, "aws.names.repository"),
            (f"log group {self.names.log_group_name!r}", region, "aws.names.log_group"),
        ]
        if self.task_role is not None:
            names.append((_iam("role", self.names.task_role), account, "aws.names.task_role"))
        if self.network.vpc_id is not None:  # a new VPC is the pool's own
            names.append(
                (
                    f"security group {self.names.security_group!r}",
                    f"VPC {self.network.vpc_id}",
                    "aws.names.security_group",
                )
            )
        names += secret_physical_names(self, Cloud.AWS, region)
        return names


def _iam(kind: str, name: str | None) -> str:
    # IAM names are unique regardless of case: compare them in one case.
    return f"IAM {kind} {str(name).lower()!r} (IAM names ignore case)"
