"""AWS ECS (Fargate): what an `ecs:push` (or `ecs` worker) pool needs.

Everything Prefect's `--provision-infra` helper creates, declaratively, and what it misses:
one IAM user per pool (the helper shares one, and IAM allows two keys per user), a policy
narrowed to this pool's cluster, task definitions, log group and roles, `logs:CreateLogGroup`
for the execution role, an optional task role, a log group with retention, capacity
providers, an image lifecycle policy, and a security group the template actually uses.
"""

import json
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_aws import cloudwatch, ec2, ecr, ecs, iam
from pulumi_aws import get_caller_identity_output as caller_identity

from pushpools.components.api_key_secret_args import StoredSecretArgs
from pushpools.components.aws.api_key_secret import store_prefect_credentials
from pushpools.components.aws.ecs_policies import (
    ECS_FULL_ACCESS_POLICY_ARN,
    EXECUTION_ROLE_POLICY_ARN,
    PoolScope,
    execution_role_log_policy,
    prefect_policy,
    task_trust_policy,
)
from pushpools.components.aws.network import Network, new_network, vpc_endpoints
from pushpools.components.aws.service_linked_role import ecs_service_linked_role
from pushpools.components.aws.settings import (
    ContainerInsights,
    EcsSettings,
    Egress,
    ExtraEndpoint,
    LaunchType,
    NatGateways,
)
from pushpools.components.config import Cloud, PoolType
from pushpools.components.config.api_key_secret import stored_credentials
from pushpools.components.naming import Naming
from pushpools.components.pool_component import PoolComponent
from pushpools.components.tagging import resource_labels, slug


def task_family_prefix(pool_name: str) -> str:
    """The prefix of the task definition families Prefect registers for a pool.

    The ECS worker (which push pools run too) names a family
    `prefect_<pool>_<deployment id>` unless a deployment sets `family`. Pool names have no
    underscore, so one pool's prefix never matches another pool's families.
    """
    return f"prefect_{pool_name}_"


class EcsNamesArgs(TypedDict):
    """Physical names (`names` of the `aws` section)."""

    execution_role: NotRequired[str]
    task_role: NotRequired[str]
    user: NotRequired[str]
    policy: NotRequired[str]
    cluster: NotRequired[str]
    repository: NotRequired[str]
    security_group: NotRequired[str]
    log_group: NotRequired[str]
    vpc: NotRequired[str]


class EcsNetworkArgs(TypedDict):
    """Where the tasks run (`network` of the `aws` section)."""

    vpc_id: NotRequired[pulumi.Input[str]]
    subnet_ids: NotRequired[pulumi.Input[list[str]]]
    cidr_block: NotRequired[str]
    egress: NotRequired[Egress]
    nat_gateways: NotRequired[NatGateways]
    extra_endpoints: NotRequired[list[ExtraEndpoint]]
    assign_public_ip: NotRequired[bool]


class EcsTaskRoleArgs(TypedDict):
    """A role for the flow code itself (`task_role` of the `aws` section)."""

    managed_policy_arns: NotRequired[list[str]]


class EcrArgs(TypedDict):
    """The image repository (`ecr` of the `aws` section)."""

    immutable_tags: NotRequired[bool]
    keep_last_images: NotRequired[int]
    delete_images_on_destroy: NotRequired[bool]


class EcsPushPoolArgs(TypedDict):
    """The `aws` section of an ECS pool in the stack config, with the same keys (each
    described by `EcsSettings`), and the pool-level `type`, `naming`,
    `credentials_block_name` and `labels`."""

    region: str
    names: NotRequired[EcsNamesArgs]
    network: NotRequired[EcsNetworkArgs]
    log_retention_days: NotRequired[int]
    container_insights: NotRequired[ContainerInsights]
    launch_type: NotRequired[LaunchType]
    task_role: NotRequired[EcsTaskRoleArgs]
    ecr: NotRequired[EcrArgs]
    attach_ecs_full_access: NotRequired[bool]
    existing_user_name: NotRequired[str]
    create_service_linked_role: NotRequired[bool]
    key_generation: NotRequired[int]
    # The Prefect API key in the cloud's secret store (api_key_secret.py): where to store
    # it, and the credential itself (secret; the stack program reads it from `config_key`).
    prefect_api_key_secret: NotRequired[StoredSecretArgs]
    prefect_api_auth_string_secret: NotRequired[StoredSecretArgs]
    prefect_api_key: NotRequired[pulumi.Input[str]]
    """The Prefect API key to store (secret); required with `prefect_api_key_secret`."""
    prefect_api_auth_string: NotRequired[pulumi.Input[str]]
    """The auth string to store (secret); required with `prefect_api_auth_string_secret`."""
    type: NotRequired[PoolType]
    naming: NotRequired[Naming]
    credentials_block_name: NotRequired[str]
    labels: NotRequired[dict[str, str]]


class EcsPushPool(PoolComponent):
    """The AWS side of one ECS work pool: an IAM user for Prefect with a policy narrowed to
    this pool (its key in the credentials block), a cluster, roles, logs, an image
    repository and the tasks' network."""

    RESOURCE_TYPE = "pushpools:aws:EcsPushPool"
    CLOUD = Cloud.AWS

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
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        name = self.pool_name
        aws = self._cloud_settings(EcsSettings)
        region = aws.region
        tags = resource_labels(self._labels, name)
        child = pulumi.ResourceOptions(parent=self)
        # Before anything of the pool: a missing role stops the preview here.
        service_linked_role = ecs_service_linked_role(
            create=aws.create_service_linked_role, pool=name, component=type(self).__name__
        )
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
        # The Prefect API key in Secrets Manager, read only by the execution role.
        secret_defaults, secrets_ready = store_prefect_credentials(
            name,
            aws,
            secret_value=self._secret,
            execution_role=self.execution_role,
            tags=tags,
            parent=self,
        )
        self.grants += secrets_ready
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
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=service_linked_role)
            ),
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
            Network(
                vpc_id=pulumi.Output.from_input(self._value("network", "vpc_id")),
                subnet_ids=pulumi.Output.from_input(self._value("network", "subnet_ids")),
            )
            if aws.network.vpc_id is not None
            else new_network(name, aws, tags, self)
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
        # Without internet, the ECS agent fetches a stored Prefect key through an endpoint.
        vpc_endpoints(
            name,
            aws,
            network,
            self.security_group.id,
            tags,
            self,
            secrets_manager=bool(stored_credentials(aws, Cloud.AWS)),
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
            role_arns=pulumi.Output.all(*role_arns),
        ).apply(
            lambda v: PoolScope(
                region=region,
                account_id=v["account_id"],
                cluster_name=v["cluster_name"],
                cluster_arn=v["cluster_arn"],
                task_family_prefix=task_family_prefix(name),
                log_group_arn=v["log_group_arn"],
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
            template_defaults=pulumi.Output.all(
                _template_defaults(
                    aws,
                    cluster_arn=self.cluster.arn,
                    execution_role_arn=self.execution_role.arn,
                    task_role_arn=None if self.task_role is None else self.task_role.arn,
                    network=network,
                    security_group_id=self.security_group.id,
                    log_group_name=self.log_group.name,
                ),
                pulumi.Output.from_input(secret_defaults),
            ).apply(lambda parts: {**parts[0], **parts[1]}),
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


def _template_defaults(
    aws: EcsSettings,
    *,
    cluster_arn: pulumi.Output[str],
    execution_role_arn: pulumi.Output[str],
    task_role_arn: pulumi.Output[str] | None,
    network: Network,
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
                "assignPublicIp": "ENABLED" if aws.network.public_ip else "DISABLED",
            },
            "configure_cloudwatch_logs": True,
            "cloudwatch_logs_options": {
                "awslogs-group": v["log_group"],
                "awslogs-region": aws.region,
            },
            "launch_type": aws.launch_type,
        }
    )
