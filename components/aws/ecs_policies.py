"""The IAM policy documents of an ECS pool: pure functions of plain values.

Prefect's helper grants a list of 23 actions on `Resource: "*"`, several of which only the
helper itself needs (with an admin's credentials), never the key it hands to Prefect. Here
the key holds exactly what Prefect's ECS code calls with it (prefect-aws 0.7.12: the ECS
worker, which push pools run too, and its observer), each action on this pool's own
resources wherever AWS authorizes it per resource, the few AWS authorizes only on "*"
limited to the pool's region. tests/test_ecs_worker_calls.py runs that code against a
fake AWS account whose only policy is this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"
EXECUTION_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_FULL_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECS_FullAccess"

# Actions AWS authorizes only on "*" (no resource types in the service authorization
# reference), each with the worker code that calls it.
_REGIONAL_ONLY_ACTIONS = [
    # `vpc_id` (a template default): the worker checks that the configured subnets belong
    # to the VPC (`_custom_network_configuration`), or, with no `network_configuration`,
    # runs the tasks in all of its subnets (`_load_network_configuration`).
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    # The observer deregisters a task definition when its task stops, for deployments
    # that set `auto_deregister_task_definition`.
    "ecs:DeregisterTaskDefinition",
    # The worker reads a task definition it registered earlier (for the deployment's next
    # flow run), `match_latest_revision_in_family`'s latest revision and a deployment's
    # `task_definition_arn`; the observer reads a crashed task's log configuration.
    "ecs:DescribeTaskDefinition",
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
    """What Prefect may do as the pool's user: what its ECS worker and observer call."""
    arn = f"{scope.region}:{scope.account_id}"
    task_definitions = f"arn:aws:ecs:{arn}:task-definition/{scope.task_family_prefix}*"
    tasks = f"arn:aws:ecs:{arn}:task/{scope.cluster_name}/*"
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
                # Every flow run of a deployment whose task definition changed.
                "Sid": "ThisPoolsTaskDefinitions",
                "Effect": "Allow",
                "Action": "ecs:RegisterTaskDefinition",
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
                # RunTask tags each task with its flow run (the observer matches ECS events
                # to flow runs by them), which ECS authorizes as TagResource on the new
                # task: only then, never to retag a task.
                "Sid": "TagTasksAsTheyStart",
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": tasks,
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                # StopTask: cancelling a flow run. DescribeTasks: the observer reads the
                # tags of a task an ECS event is about.
                "Sid": "TasksOnThisPoolsCluster",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": tasks,
            },
            {
                # The observer forwards a crashed task's last log lines to its flow run.
                # The task writes them as the execution role, not as this key.
                "Sid": "ReadThisPoolsLogStreams",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": f"{scope.log_group_arn}:log-stream:*",
            },
            {
                # RunTask passes the task's roles to ECS. Without this limit, whoever holds
                # the key could run tasks as any role.
                "Sid": "AllowPassRoleForEcs",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": list(scope.pass_role_arns),
                "Condition": {"StringEquals": {"iam:PassedToService": ECS_TASKS_SERVICE}},
            },
        ],
    }
