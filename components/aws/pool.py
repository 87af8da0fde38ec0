"""AWS ECS (Fargate): what an `ecs:push` (or `ecs` worker) pool needs.

Everything Prefect's `--provision-infra` helper creates, declaratively, and what it misses:
one IAM user per pool (the helper shares one, and IAM allows two keys per user), a policy
narrowed to this pool's cluster, task definitions, log group and roles, `logs:CreateLogGroup`
for the execution role, an optional task role, a log group with retention, capacity
providers, an image lifecycle policy, and a security group the template actually uses.
"""

import ipaddress
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_aws import cloudwatch, ec2, ecr, ecs, get_availability_zones, iam
from pulumi_aws import get_caller_identity_output as caller_identity

from pushpools.components.aws.ecs_policies import (
    ECS_FULL_ACCESS_POLICY_ARN,
    EXECUTION_ROLE_POLICY_ARN,
    PoolScope,
    execution_role_log_policy,
    prefect_policy,
    task_trust_policy,
)
from pushpools.components.aws.settings import EcsSettings
from pushpools.components.config import PoolType
from pushpools.components.naming import Naming
from pushpools.components.pool_args import ArgsSpec
from pushpools.components.pool_component import PoolComponent
from pushpools.components.tagging import resource_labels, slug

MAX_ZONES = 3


@dataclass(frozen=True)
class _Network:
    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]


def task_family_prefix(pool_name: str) -> str:
    """The prefix of the task definition families Prefect registers for a pool.

    The ECS worker (which push pools run too) names a family
    `prefect_<pool>_<deployment id>` unless a deployment sets `family`. Pool names have no
    underscore, so one pool's prefix never matches another pool's families.
    """
    return f"prefect_{pool_name}_"


class EcsPoolType(Enum):
    """The work-pool types an ECS pool can have."""

    ECS_PUSH = "ecs:push"
    """Prefect Cloud pushes flow runs to ECS tasks."""
    ECS = "ecs"
    """A worker you run submits flow runs (self-hosted Prefect servers know no push pools)."""


class ContainerInsights(Enum):
    """CloudWatch Container Insights for the cluster."""

    DISABLED = "disabled"
    ENABLED = "enabled"
    ENHANCED = "enhanced"


class LaunchType(Enum):
    """How the tasks run by default."""

    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"


class EcsTaskRoleArgs(TypedDict):
    """A role for the flow code itself."""

    managed_policy_arns: NotRequired[list[str]]
    """Managed policies the flow code needs, e.g. arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess."""


class EcsPushPoolArgs(TypedDict):
    """The arguments of an ECS pool; each is the stack-config key named in brackets."""

    region: str
    """Region of the cluster, registry, logs and network [aws.region]."""
    pool_type: NotRequired[EcsPoolType]
    """The work pool's type [type]; default ecs:push."""
    credentials_block_name: NotRequired[str]
    """Name of the credentials block [credentials_block_name]; default
    `<name>-aws-credentials`, as Prefect's helper names it."""
    naming: NotRequired[Naming]
    """How unset physical names are made [naming]: `derived` from the pool's name (the
    default; the `default` of each name below) or `helper`, the fixed names Prefect's
    `--provision-infra` uses (the name after "helper:")."""
    execution_role_name: NotRequired[str]
    """IAM role the ECS agent pulls images and writes logs as [aws.names.execution_role];
    default `<name>-execution-role` (helper: PrefectEcsTaskExecutionRole)."""
    task_role_name: NotRequired[str]
    """IAM role the flow code runs as, made only with `task_role` [aws.names.task_role];
    default `<name>-task-role` (helper: PrefectEcsTaskRole)."""
    user_name: NotRequired[str]
    """IAM user Prefect acts as [aws.names.user]; default `<name>-prefect` (helper:
    prefect-ecs-user)."""
    policy_name: NotRequired[str]
    """IAM policy holding what Prefect may do [aws.names.policy]; default
    `<name>-prefect-policy` (helper: prefect-ecs-policy)."""
    cluster_name: NotRequired[str]
    """ECS cluster [aws.names.cluster]; default `<name>-cluster` (helper:
    prefect-ecs-cluster)."""
    repository_name: NotRequired[str]
    """ECR repository for flow images [aws.names.repository]; default `<name>-flows`
    (helper: prefect-flows)."""
    security_group_name: NotRequired[str]
    """Security group of the tasks [aws.names.security_group]; default `<name>-tasks`
    (helper: prefect-ecs-security-group)."""
    log_group_name: NotRequired[str]
    """CloudWatch log group of the tasks [aws.names.log_group]; default `/ecs/<cluster>`."""
    vpc_name: NotRequired[str]
    """`Name` tag of a VPC the pool creates [aws.names.vpc]; default `<name>-vpc` (helper:
    prefect-ecs-vpc)."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """An existing VPC to run the tasks in [aws.network.vpc_id]; default: a new VPC. May
    come from another resource."""
    subnet_ids: NotRequired[pulumi.Input[list[str]]]
    """Subnets of `vpc_id` the tasks run in, required with it [aws.network.subnet_ids]. May
    come from another resource."""
    vpc_cidr_block: NotRequired[str]
    """CIDR of a new VPC [aws.network.cidr_block]; default 10.0.0.0/16."""
    assign_public_ip: NotRequired[bool]
    """Give tasks a public IP [aws.network.assign_public_ip]; default true."""
    log_retention_days: NotRequired[int]
    """Days CloudWatch keeps the tasks' logs [aws.log_retention_days]; default 30."""
    container_insights: NotRequired[ContainerInsights]
    """CloudWatch Container Insights [aws.container_insights]; default disabled."""
    launch_type: NotRequired[LaunchType]
    """The template's default launch type [aws.launch_type]; default FARGATE."""
    task_role: NotRequired[EcsTaskRoleArgs]
    """Create a role for the flow code [aws.task_role]; default: none."""
    ecr_immutable_tags: NotRequired[bool]
    """Refuse to overwrite a pushed image tag [aws.ecr.immutable_tags]; default false."""
    ecr_keep_last_images: NotRequired[int]
    """Expire all but the newest this many images [aws.ecr.keep_last_images]; default 100."""
    ecr_delete_images_on_destroy: NotRequired[bool]
    """Let `pulumi destroy` delete the repository with its images; default false: the
    repository is protected [aws.ecr.delete_images_on_destroy]."""
    attach_ecs_full_access: NotRequired[bool]
    """Also attach the broad AmazonECS_FullAccess to Prefect's user
    [aws.attach_ecs_full_access]; default false."""
    existing_user_name: NotRequired[str]
    """Act as this existing IAM user instead of creating one [aws.existing_user_name]."""
    key_generation: NotRequired[int]
    """Bump to rotate the access key [aws.key_generation]; default 1."""
    labels: NotRequired[dict[str, str]]
    """Tags for every resource, besides managed-by and prefect-work-pool [labels]."""


ARGS = ArgsSpec(
    component="EcsPushPool",
    default_type=PoolType.ECS_PUSH,
    keys={
        "region": "aws.region",
        "pool_type": "type",
        "credentials_block_name": "credentials_block_name",
        "naming": "naming",
        "execution_role_name": "aws.names.execution_role",
        "task_role_name": "aws.names.task_role",
        "user_name": "aws.names.user",
        "policy_name": "aws.names.policy",
        "cluster_name": "aws.names.cluster",
        "repository_name": "aws.names.repository",
        "security_group_name": "aws.names.security_group",
        "log_group_name": "aws.names.log_group",
        "vpc_name": "aws.names.vpc",
        "vpc_id": "aws.network.vpc_id",
        "subnet_ids": "aws.network.subnet_ids",
        "vpc_cidr_block": "aws.network.cidr_block",
        "assign_public_ip": "aws.network.assign_public_ip",
        "log_retention_days": "aws.log_retention_days",
        "container_insights": "aws.container_insights",
        "launch_type": "aws.launch_type",
        "task_role": "aws.task_role",
        "ecr_immutable_tags": "aws.ecr.immutable_tags",
        "ecr_keep_last_images": "aws.ecr.keep_last_images",
        "ecr_delete_images_on_destroy": "aws.ecr.delete_images_on_destroy",
        "attach_ecs_full_access": "aws.attach_ecs_full_access",
        "existing_user_name": "aws.existing_user_name",
        "key_generation": "aws.key_generation",
    },
    stand_ins={"vpc_id": "vpc-00000000", "subnet_ids": ["subnet-00000000"]},
)


class EcsPushPool(PoolComponent):
    """The AWS side of one ECS work pool: an IAM user for Prefect with a policy narrowed to
    this pool (its key in the credentials block), a cluster, roles, logs, an image
    repository and the tasks' network."""

    execution_role_arn: pulumi.Output[str]
    """The role the ECS agent pulls images and writes logs as."""
    task_role_arn: pulumi.Output[str] | None
    """The role the flow code runs as; absent without `task_role`."""
    prefect_user_name: pulumi.Output[str]
    """The IAM user Prefect acts as."""
    cluster_arn: pulumi.Output[str]
    """The ECS cluster the flow runs run in."""

    def __init__(
        self,
        name: str,
        args: EcsPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:aws:EcsPushPool", name, ARGS, args, opts)
        aws = self._cloud_settings(EcsSettings)
        region = aws.region
        tags = resource_labels(self._labels, name)
        child = pulumi.ResourceOptions(parent=self)
        account_id = caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id

        self.log_group = cloudwatch.LogGroup(
            f"{name}-logs",
            name=aws.names.log_group_name,
            retention_in_days=aws.log_retention_days,
            region=region,
            tags=tags,
            opts=child,
        )
        self.execution_role = iam.Role(
            f"{name}-execution-role",
            name=aws.names.execution_role,
            description=f"ECS pulls images and writes logs as this role for the work pool {name}",
            assume_role_policy=json.dumps(task_trust_policy()),
            tags=tags,
            opts=child,
        )
        self._granted(
            iam.RolePolicyAttachment(
                f"{name}-execution-role-policy",
                role=self.execution_role.name,
                policy_arn=EXECUTION_ROLE_POLICY_ARN,
                opts=child,
            )
        )
        self._granted(
            iam.RolePolicy(
                f"{name}-execution-role-logs",
                role=self.execution_role.name,
                name="create-log-group",
                policy=self.log_group.arn.apply(
                    lambda arn: json.dumps(execution_role_log_policy(arn))
                ),
                opts=child,
            )
        )
        self.task_role = None
        if aws.task_role:
            self.task_role, attachments = _task_role(name, aws, tags, child)
            self.grants += attachments

        self.repository = ecr.Repository(
            f"{name}-images",
            name=aws.names.repository,
            image_scanning_configuration={"scan_on_push": True},
            image_tag_mutability="IMMUTABLE" if aws.ecr.immutable_tags else "MUTABLE",
            # ECR refuses to delete a repository with images, which would stop a destroy
            # halfway: either delete them too (opt-in) or protect the repository, so that
            # destroy stops before it deletes anything.
            force_delete=aws.ecr.delete_images_on_destroy,
            region=region,
            tags=tags,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=not aws.ecr.delete_images_on_destroy)
            ),
        )
        ecr.LifecyclePolicy(
            f"{name}-images-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(_lifecycle_policy(aws.ecr.keep_last_images)),
            region=region,
            opts=child,
        )

        self.cluster = ecs.Cluster(
            f"{name}-cluster",
            name=aws.names.cluster,
            settings=[{"name": "containerInsights", "value": aws.container_insights}],
            region=region,
            tags=tags,
            opts=child,
        )
        self._granted(
            ecs.ClusterCapacityProviders(
                f"{name}-capacity-providers",
                cluster_name=self.cluster.name,
                capacity_providers=["FARGATE", "FARGATE_SPOT"],
                default_capacity_provider_strategies=[
                    {"capacity_provider": aws.launch_type, "weight": 1}
                ],
                region=region,
                opts=child,
            )
        )

        # An existing VPC and its subnets may be other resources' outputs: from the args.
        network = (
            _Network(
                vpc_id=pulumi.Output.from_input(args.get("vpc_id", "")),
                subnet_ids=pulumi.Output.from_input(args.get("subnet_ids", [])),
            )
            if aws.network.vpc_id is not None
            else _new_network(name, aws, tags, self)
        )
        self.security_group = ec2.SecurityGroup(
            f"{name}-security-group",
            name=aws.names.security_group,
            description=f"Tasks of the Prefect work pool {name}: egress only",
            vpc_id=network.vpc_id,
            # The tasks call out (ECR, Prefect, the flows' services); nothing calls in.
            ingress=[],
            egress=[
                {
                    "protocol": "-1",
                    "from_port": 0,
                    "to_port": 0,
                    "cidr_blocks": ["0.0.0.0/0"],
                    "description": "All outbound traffic",
                }
            ],
            region=region,
            tags=tags,
            opts=child,
        )

        user_name = self._prefect_user(aws, tags, child)
        role_arns = [self.execution_role.arn] + (
            [self.task_role.arn] if self.task_role is not None else []
        )
        scope = pulumi.Output.all(
            account_id=account_id,
            cluster_name=self.cluster.name,
            cluster_arn=self.cluster.arn,
            log_group_arn=self.log_group.arn,
            vpc_id=network.vpc_id,
            role_arns=pulumi.Output.all(*role_arns),
        ).apply(
            lambda v: PoolScope(
                region=region,
                account_id=v["account_id"],
                cluster_name=v["cluster_name"],
                cluster_arn=v["cluster_arn"],
                task_family_prefix=task_family_prefix(name),
                log_group_arn=v["log_group_arn"],
                vpc_id=v["vpc_id"],
                pass_role_arns=tuple(v["role_arns"]),
            )
        )
        self.prefect_policy = iam.Policy(
            f"{name}-prefect-policy",
            name=aws.names.policy,
            description=f"What Prefect may do in AWS for the work pool {name}",
            policy=scope.apply(lambda s: json.dumps(prefect_policy(s))),
            tags=tags,
            opts=child,
        )
        self._granted(
            iam.UserPolicyAttachment(
                f"{name}-prefect-policy-attachment",
                user=user_name,
                policy_arn=self.prefect_policy.arn,
                opts=child,
            )
        )
        if aws.attach_ecs_full_access:
            self._granted(
                iam.UserPolicyAttachment(
                    f"{name}-ecs-full-access",
                    user=user_name,
                    policy_arn=ECS_FULL_ACCESS_POLICY_ARN,
                    opts=child,
                )
            )
        # The generation is in the name: bumping it declares a new key, which Pulumi creates
        # (and hands to the block) before it deletes the key that left the program.
        self.access_key = iam.AccessKey(
            f"{name}-access-key-{aws.key_generation}", user=user_name, opts=child
        )

        self.execution_role_arn = self.execution_role.arn
        self.task_role_arn = None if self.task_role is None else self.task_role.arn
        self.prefect_user_name = user_name
        self.cluster_arn = self.cluster.arn
        self._finish(
            credentials_data={
                "aws_access_key_id": self.access_key.id,
                "aws_secret_access_key": self.access_key.secret,
                "region_name": region,
            },
            template_defaults=_template_defaults(
                aws,
                cluster_arn=self.cluster.arn,
                execution_role_arn=self.execution_role.arn,
                task_role_arn=None if self.task_role is None else self.task_role.arn,
                network=network,
                security_group_id=self.security_group.id,
                log_group_name=self.log_group.name,
            ),
            image_namespace=self.repository.repository_url,
            one_image_per_repository=True,
            outputs={
                "executionRoleArn": self.execution_role_arn,
                "taskRoleArn": self.task_role_arn,
                "prefectUserName": self.prefect_user_name,
                "clusterArn": self.cluster_arn,
            },
        )

    def _prefect_user(
        self, aws: EcsSettings, tags: dict[str, str], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        if aws.existing_user_name is not None:
            return pulumi.Output.from_input(aws.existing_user_name)
        user = iam.User(f"{self.pool_name}-prefect-user", name=aws.names.user, tags=tags, opts=opts)
        return user.name


def _task_role(
    name: str, aws: EcsSettings, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> tuple[iam.Role, list[pulumi.Resource]]:
    """The flow code's role, and its policy attachments (grants)."""
    assert aws.task_role is not None
    role = iam.Role(
        f"{name}-task-role",
        name=aws.names.task_role,
        description=f"Flow runs of the Prefect work pool {name} run as this role",
        assume_role_policy=json.dumps(task_trust_policy()),
        tags=tags,
        opts=opts,
    )
    attachments: list[pulumi.Resource] = [
        iam.RolePolicyAttachment(
            f"{name}-task-role-{slug(arn.removeprefix('arn:aws:iam::'))}",
            role=role.name,
            policy_arn=arn,
            opts=opts,
        )
        for arn in aws.task_role.managed_policy_arns
    ]
    return role, attachments


def _lifecycle_policy(keep_last: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Keep the newest {keep_last} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_last,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def _new_network(
    name: str, aws: EcsSettings, tags: dict[str, str], parent: pulumi.Resource
) -> _Network:
    """A VPC with one public subnet per zone (up to three) routed to an internet gateway."""
    opts = pulumi.ResourceOptions(parent=parent)
    region = aws.region
    zones = sorted(
        get_availability_zones(
            state="available",
            # Standard zones only: Local and Wavelength Zones an account opted into are
            # listed too (and sort first by name), but Fargate does not run there. The
            # `zone-type` filter of DescribeAvailabilityZones (EC2 API reference).
            filters=[{"name": "zone-type", "values": ["availability-zone"]}],
            region=region,
            opts=pulumi.InvokeOptions(parent=parent),
        ).names
    )[:MAX_ZONES]
    if not zones:
        raise pulumi.RunError(f"AWS lists no available availability zone in {region}")
    cidr = ipaddress.IPv4Network(aws.network.new_vpc_cidr)
    # Quarters of the VPC: three for the zones, one left for later.
    subnet_cidrs = list(cidr.subnets(prefixlen_diff=2))
    named = str(aws.names.vpc)  # resolved by the config layer

    vpc = ec2.Vpc(
        f"{name}-vpc",
        cidr_block=str(cidr),
        # ECR and Prefect are reached by DNS name.
        enable_dns_support=True,
        enable_dns_hostnames=True,
        region=region,
        tags={**tags, "Name": named},
        opts=opts,
    )
    gateway = ec2.InternetGateway(
        f"{name}-internet-gateway",
        vpc_id=vpc.id,
        region=region,
        tags={**tags, "Name": named},
        opts=opts,
    )
    routes = ec2.RouteTable(
        f"{name}-public-routes",
        vpc_id=vpc.id,
        routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
        region=region,
        tags={**tags, "Name": f"{named}-public"},
        opts=opts,
    )
    subnet_ids = []
    for zone, subnet_cidr in zip(zones, subnet_cidrs, strict=False):
        subnet = ec2.Subnet(
            f"{name}-public-{zone}",
            vpc_id=vpc.id,
            cidr_block=str(subnet_cidr),
            availability_zone=zone,
            region=region,
            tags={**tags, "Name": f"{named}-public-{zone}"},
            opts=opts,
        )
        ec2.RouteTableAssociation(
            f"{name}-public-{zone}-routes",
            subnet_id=subnet.id,
            route_table_id=routes.id,
            region=region,
            opts=opts,
        )
        subnet_ids.append(subnet.id)
    return _Network(vpc_id=vpc.id, subnet_ids=pulumi.Output.all(*subnet_ids))


def _template_defaults(
    aws: EcsSettings,
    *,
    cluster_arn: pulumi.Output[str],
    execution_role_arn: pulumi.Output[str],
    task_role_arn: pulumi.Output[str] | None,
    network: _Network,
    security_group_id: pulumi.Output[str],
    log_group_name: pulumi.Output[str],
) -> pulumi.Output[dict[str, Any]]:
    """The ECS job variables that point the pool at this infrastructure."""
    return pulumi.Output.all(
        cluster=cluster_arn,
        execution_role_arn=execution_role_arn,
        task_role_arn=task_role_arn,
        vpc_id=network.vpc_id,
        subnets=network.subnet_ids,
        security_group=security_group_id,
        log_group=log_group_name,
    ).apply(
        lambda v: {
            "cluster": v["cluster"],
            "execution_role_arn": v["execution_role_arn"],
            **({"task_role_arn": v["task_role_arn"]} if v["task_role_arn"] else {}),
            "vpc_id": v["vpc_id"],
            # The worker wraps this in `awsvpcConfiguration` itself, and requires vpc_id.
            "network_configuration": {
                "subnets": v["subnets"],
                "securityGroups": [v["security_group"]],
                "assignPublicIp": "ENABLED" if aws.network.assign_public_ip else "DISABLED",
            },
            "configure_cloudwatch_logs": True,
            "cloudwatch_logs_options": {
                "awslogs-group": v["log_group"],
                "awslogs-region": aws.region,
            },
            "launch_type": aws.launch_type,
        }
    )
