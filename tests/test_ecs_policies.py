"""The ECS pool's IAM documents: audited by parliament, checked against IAM's action list.

parliament ships the AWS Service Authorization Reference (which actions exist, which
resource types each is authorized on); these tests read it to prove that every action
is real and that only the actions AWS cannot authorize per resource get `Resource: "*"`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():  # parliament imports pkg_resources, deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", UserWarning)
    from parliament import analyze_policy_string, expand_action, is_arn_strictly_valid
    from parliament.statement import get_arn_format, get_privilege_info

from pushpools.components.aws.ecs_policies import (
    PoolScope,
    execution_role_log_policy,
    prefect_policy,
    task_trust_policy,
)
from pushpools_tools.engine import ProgramRun
from tests.harness import inputs, run_pools

# The action list of the helper's `prefect-ecs-policy` (docs: shared reference, "AWS ECS").
HELPER_ACTIONS = {
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecs:CreateCluster",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeClusters",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "ecs:ListAccountSettings",
    "ecs:ListClusters",
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
    "ecs:RunTask",
    "ecs:StopTask",
    "ecs:TagResource",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:GetLogEvents",
    "iam:PassRole",
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(
        {"name": "dev-ecs", "type": "ecs:push", "aws": {"region": "eu-west-1"}},
        {
            "name": "prod-ecs",
            "type": "ecs:push",
            "aws": {
                "region": "us-east-2",
                "names": {"execution_role": "ProdExec", "user": "prod", "policy": "prod"},
                "network": {
                    "vpc_id": "vpc-0a1b2c3d4e5f60718",
                    "subnet_ids": ["subnet-0a1b2c3d4e5f60719"],
                },
                "task_role": {
                    "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
                },
            },
        },
    )


def _permission_documents(run: ProgramRun) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity policy the program declares (the user's and the roles' inline ones)."""
    for type_ in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"):
        for resource in run.find(type_):
            yield resource.name, json.loads(inputs(resource)["policy"])


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["Statement"]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _resource_types(action: str) -> list[tuple[str, str]]:
    """(resource type, ARN format) AWS authorizes the action on; empty: only "*"."""
    service, name = action.split(":")
    info = get_privilege_info(service, name)
    return [
        (t["resource_type"], get_arn_format(t["resource_type"], info["service_resources"]))
        for t in info["resource_types"]
        if t["resource_type"]
    ]


def test_the_program_declares_the_documents_audited_here(run: ProgramRun) -> None:
    names = sorted(name for name, _ in _permission_documents(run))
    assert names == [
        "dev-ecs-execution-role-logs",
        "dev-ecs-prefect-policy",
        "prod-ecs-execution-role-logs",
        "prod-ecs-prefect-policy",
    ]


def test_parliament_finds_nothing_in_any_permission_policy(run: ProgramRun) -> None:
    for name, document in _permission_documents(run):
        policy = analyze_policy_string(json.dumps(document))
        assert [(f.issue, f.detail, f.location) for f in policy.findings] == [], name


def test_parliaments_community_auditors_flag_only_the_pass_role_the_pool_needs(
    run: ProgramRun,
) -> None:
    """They flag any permissions-management action; PassRole (to this pool's roles, for
    ECS only) is what lets Prefect start tasks at all."""
    for name, document in _permission_documents(run):
        policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
        issues = [(f.issue, f.location.get("actions")) for f in policy.findings]
        expected = (
            [("PERMISSIONS_MANAGEMENT_ACTIONS", ["iam:passrole"])]
            if name.endswith("prefect-policy")
            else []
        )
        assert issues == expected, name


def test_every_action_is_a_real_iam_action(run: ProgramRun) -> None:
    actions = {
        action
        for _, document in _permission_documents(run)
        for statement in _statements(document)
        for action in _listed(statement["Action"])
    } | {_listed(s["Action"])[0] for s in _statements(task_trust_policy())}
    assert "sts:AssumeRole" in actions
    for action in sorted(actions):
        assert "*" not in action, f"{action}: grant named actions, never patterns"
        expanded = expand_action(action)  # raises on an unknown service or action
        assert {f"{e['service']}:{e['action']}" for e in expanded} == {action}


# What Prefect's ECS worker and observer call with the key (tests/test_ecs_worker_calls.py
# runs them): the helper's list without the actions only the helper itself needs.
WORKER_ACTIONS = {
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "ecs:RegisterTaskDefinition",
    "ecs:RunTask",
    "ecs:StopTask",
    "ecs:TagResource",
    "logs:GetLogEvents",
    "iam:PassRole",
}


def test_prefect_may_do_what_its_ecs_code_calls_all_of_it_on_the_helpers_list(
    run: ProgramRun,
) -> None:
    assert WORKER_ACTIONS < HELPER_ACTIONS
    for name, document in _permission_documents(run):
        if name.endswith("prefect-policy"):
            granted = {a for s in _statements(document) for a in _listed(s["Action"])}
            assert granted == WORKER_ACTIONS, name


def test_only_actions_aws_cannot_scope_get_resource_star(run: ProgramRun) -> None:
    for name, document in _permission_documents(run):
        for statement in _statements(document):
            for action in _listed(statement["Action"]):
                scoped = bool(_resource_types(action))
                on_star = "*" in _listed(statement["Resource"])
                assert scoped != on_star, f"{name} {statement.get('Sid')}: {action}"


def test_star_grants_are_held_to_the_pools_region(run: ProgramRun) -> None:
    expected = {"dev-ecs-prefect-policy": "eu-west-1", "prod-ecs-prefect-policy": "us-east-2"}
    for name, document in _permission_documents(run):
        for statement in _statements(document):
            if statement["Resource"] == "*":
                assert statement["Condition"] == {
                    "StringEquals": {"aws:RequestedRegion": expected[name]}
                }


def test_every_scoped_resource_is_an_arn_of_a_type_its_action_is_authorized_on(
    run: ProgramRun,
) -> None:
    for name, document in _permission_documents(run):
        for statement in _statements(document):
            for resource in _listed(statement["Resource"]):
                if resource == "*":
                    continue
                assert "*" not in resource.split(":")[:5], f"{name}: {resource} spans accounts"
                for action in _listed(statement["Action"]):
                    types = _resource_types(action)
                    assert any(
                        is_arn_strictly_valid(t, arn_format, resource) for t, arn_format in types
                    ), f"{name}: {action} is not authorized on {resource}"


def test_the_pure_policy_functions_match_what_the_program_declares(run: ProgramRun) -> None:
    # The documents are functions of the pool's resources only: no hidden inputs.
    document = json.loads(
        inputs(run.one("aws:iam/policy:Policy", "dev-ecs-prefect-policy"))["policy"]
    )
    scope = PoolScope(
        region="eu-west-1",
        account_id="123456789012",
        cluster_name="dev-ecs-cluster",
        cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/dev-ecs-cluster",
        task_family_prefix="prefect_dev-ecs_",
        log_group_arn="arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/dev-ecs-cluster",
        pass_role_arns=("arn:aws:iam::123456789012:role/dev-ecs-execution-role",),
    )
    assert document == prefect_policy(scope)
    logs = json.loads(
        inputs(run.one("aws:iam/rolePolicy:RolePolicy", "dev-ecs-execution-role-logs"))["policy"]
    )
    assert logs == execution_role_log_policy(scope.log_group_arn)
