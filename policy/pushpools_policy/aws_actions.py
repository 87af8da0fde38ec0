"""Which AWS actions the IAM rules care about, from the Service Authorization Reference.

https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
(taken from parliament 1.6's copy of it, which the main project's tests use).
"""

from __future__ import annotations

import re

PASS_ROLE = "iam:PassRole"  # noqa: S105 - an IAM action, not a password

# ECS actions with no resource type: AWS authorizes them on "*" only, so "*" is no
# broader than the action itself.
ECS_ACTIONS_ONLY_ON_STAR = frozenset(
    f"ecs:{name}"
    for name in [
        "CreateCapacityProvider",
        "CreateTaskSet",
        "DeleteAccountSetting",
        "DeregisterTaskDefinition",
        "DescribeTaskDefinition",
        "DiscoverPollEndpoint",
        "ListAccountSettings",
        "ListClusters",
        "ListServices",
        "ListServicesByNamespace",
        "ListTaskDefinitionFamilies",
        "ListTaskDefinitions",
        "PutAccountSetting",
        "PutAccountSettingDefault",
    ]
)

# ECS actions AWS authorizes per resource (cluster, service, task, task definition, ...):
# on "*" they reach every one of them in the account.
ECS_ACTIONS_PER_RESOURCE = frozenset(
    f"ecs:{name}"
    for name in [
        "CreateCluster",
        "CreateService",
        "DeleteAttributes",
        "DeleteCapacityProvider",
        "DeleteCluster",
        "DeleteService",
        "DeleteTaskDefinitions",
        "DeleteTaskSet",
        "DeregisterContainerInstance",
        "DescribeCapacityProviders",
        "DescribeClusters",
        "DescribeContainerInstances",
        "DescribeServiceDeployments",
        "DescribeServiceRevisions",
        "DescribeServices",
        "DescribeTaskSets",
        "DescribeTasks",
        "ExecuteCommand",
        "GetTaskProtection",
        "ListAttributes",
        "ListContainerInstances",
        "ListServiceDeployments",
        "ListTagsForResource",
        "ListTasks",
        "Poll",
        "PutAttributes",
        "PutClusterCapacityProviders",
        "RegisterContainerInstance",
        "RegisterTaskDefinition",
        "RunTask",
        "StartTask",
        "StartTelemetrySession",
        "StopTask",
        "SubmitAttachmentStateChanges",
        "SubmitContainerStateChange",
        "SubmitTaskStateChange",
        "TagResource",
        "UntagResource",
        "UpdateCapacityProvider",
        "UpdateCluster",
        "UpdateClusterSettings",
        "UpdateContainerAgent",
        "UpdateContainerInstancesState",
        "UpdateService",
        "UpdateServicePrimaryTaskSet",
        "UpdateTaskProtection",
        "UpdateTaskSet",
    ]
)


def matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards."""
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()
    )
    return re.fullmatch(regex, action.lower()) is not None


def matched(pattern: str, actions: frozenset[str] | tuple[str, ...]) -> list[str]:
    return sorted(a for a in actions if matches(pattern, a))
