"""The IAM policy documents of an ECS pool: pure functions of plain values.

Prefect's helper grants its action list on `Resource: "*"`. Here each action is granted
on this pool's own resources wherever AWS authorizes it per resource; the few actions
AWS only authorizes on "*" are limited to the pool's region instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"
EXECUTION_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_FULL_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECS_FullAccess"

# Actions AWS authorizes only on "*" (no resource types in the service authorization
# reference); reads, plus deregistering a task definition revision.
_REGIONAL_ONLY_ACTIONS = [
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "ecs:ListAccountSettings",
    "ecs:ListClusters",
    "ecs:ListTaskDefinitions",
    "logs:DescribeLogGroups",
]


@dataclass(frozen=True)
class PoolScope:
    """The resources of one pool that Prefect's policy names."""

    region: str
    account_id: str
    cluster_name: str
    cluster_arn: str
    task_family_prefix: str
    """Task definitions Prefect registers for this pool are named `<prefix><deployment>`."""
    log_group_arn: str
    """As CloudWatch reports it, without the `:*` suffix."""
    vpc_id: str
    pass_role_arns: tuple[str, ...]
    """The pool's execution role, and its task role if it has one."""


def task_trust_policy() -> dict[str, Any]:
    """Only ECS tasks may assume the pool's roles."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ECS_TASKS_SERVICE},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def execution_role_log_policy(log_group_arn: str) -> dict[str, Any]:
    """What AmazonECSTaskExecutionRolePolicy lacks for `configure_cloudwatch_logs`.

    The ECS worker always sets `awslogs-create-group: true`, so the agent calls
    CreateLogGroup even for a group that exists (Prefect issue 20237); AWS evaluates it
    on `log-group:<name>:log-stream:`, hence the `:*` form.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateThisPoolsLogGroup",
                "Effect": "Allow",
                "Action": "logs:CreateLogGroup",
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            }
        ],
    }


def prefect_policy(scope: PoolScope) -> dict[str, Any]:
    """What Prefect may do as the pool's user: the helper's action list, narrowed."""
    arn = f"{scope.region}:{scope.account_id}"
    task_definitions = f"arn:aws:ecs:{arn}:task-definition/{scope.task_family_prefix}*"
    tasks = f"arn:aws:ecs:{arn}:task/{scope.cluster_name}/*"
    vpc = f"arn:aws:ec2:{arn}:vpc/{scope.vpc_id}"
    security_groups = f"arn:aws:ec2:{arn}:security-group/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadInThisPoolsRegion",
                "Effect": "Allow",
                "Action": _REGIONAL_ONLY_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": scope.region}},
            },
            {
                "Sid": "ThisPoolsCluster",
                "Effect": "Allow",
                "Action": ["ecs:CreateCluster", "ecs:DescribeClusters"],
                "Resource": scope.cluster_arn,
            },
            {
                "Sid": "ThisPoolsTaskDefinitions",
                "Effect": "Allow",
                "Action": ["ecs:RegisterTaskDefinition", "ecs:TagResource"],
                "Resource": task_definitions,
            },
            {
                # A task definition of this pool, and only on this pool's cluster.
                "Sid": "RunTasksOnThisPoolsCluster",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": task_definitions,
                "Condition": {"ArnEquals": {"ecs:cluster": scope.cluster_arn}},
            },
            {
                "Sid": "TasksOnThisPoolsCluster",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask", "ecs:TagResource"],
                "Resource": tasks,
            },
            {
                "Sid": "ThisPoolsLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:GetLogEvents", "logs:PutLogEvents"],
                "Resource": f"{scope.log_group_arn}:log-stream:*",
            },
            {
                "Sid": "CreateSecurityGroupsInThisPoolsVpc",
                "Effect": "Allow",
                "Action": "ec2:CreateSecurityGroup",
                "Resource": [vpc, security_groups],
            },
            {
                # Never on the security groups of other VPCs of the account.
                "Sid": "OpenSecurityGroupsOfThisPoolsVpc",
                "Effect": "Allow",
                "Action": "ec2:AuthorizeSecurityGroupIngress",
                "Resource": security_groups,
                "Condition": {"ArnEquals": {"ec2:Vpc": vpc}},
            },
            {
                "Sid": "TagSecurityGroupsAsTheyAreCreated",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": security_groups,
                "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}},
            },
            {
                # Without this limit, whoever holds the key could run tasks as any role.
                "Sid": "AllowPassRoleForEcs",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": list(scope.pass_role_arns),
                "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS_SERVICE}},
            },
        ],
    }
