"""Mandatory: no `iam:PassRole` and no per-resource ECS action on `Resource: "*"`.

`iam:PassRole` on "*" lets its holder hand *any* role of the account to a task it starts,
and so act with that role's permissions: an escalation path. ECS actions on "*" reach
every cluster, service and task definition of the account, not just the pool's. Prefect's
helper grants both; pushpools grants each action on the pool's own resources. The ECS
actions AWS authorizes only on "*" (reads such as `ecs:ListClusters`) are allowed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pushpools_policy.aws_actions import (
    ECS_ACTIONS_PER_RESOURCE,
    PASS_ROLE,
    matched,
    matches,
)
from pushpools_policy.common import as_list, json_document

# Resource types holding a policy document, and the property that holds it.
_DOCUMENTS = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
# AWS managed policies that grant PassRole or ECS actions on "*".
BROAD_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/AmazonECS_FullAccess": "ecs:* and iam:PassRole on every resource",
    "arn:aws:iam::aws:policy/AdministratorAccess": "every action on every resource",
    "arn:aws:iam::aws:policy/PowerUserAccess": "every action but IAM on every resource",
    "arn:aws:iam::aws:policy/IAMFullAccess": "iam:* (so iam:PassRole) on every resource",
}

# Advice text, not a password.
_FIX_PASS_ROLE = (
    'list the ARNs of the roles it may pass in Resource instead of "*" (pushpools passes '  # noqa: S105
    "only the pool's execution and task roles), with an iam:PassedToService condition"
)
_FIX_ECS = (
    "grant them on the pool's own cluster, task definitions and tasks (ARNs in Resource), "
    'as pushpools\' prefect-ecs-policy does; only ECS actions AWS authorizes on "*" alone '
    "(such as ecs:ListClusters) may use it"
)


def check(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type in _DOCUMENTS:
        document = json_document(props.get(_DOCUMENTS[resource_type]))
        return _check_document(document, f"{resource_type} {props.get('name') or ''}".strip())
    if resource_type == "aws:iam/role:Role":
        problems = []
        for inline in as_list(props.get("inlinePolicies")):
            if isinstance(inline, Mapping):
                where = f"inline policy {inline.get('name')!r} of role {props.get('name')!r}"
                problems += _check_document(json_document(inline.get("policy")), where)
        for arn in as_list(props.get("managedPolicyArns")):
            problems += _check_managed(arn, f"role {props.get('name')!r}")
        return problems
    if resource_type in _ATTACHMENTS:
        principal = props.get("role") or props.get("user") or props.get("group") or "a principal"
        return _check_managed(props.get("policyArn"), f"{principal!s}")
    return []


def _check_managed(arn: Any, where: str) -> list[str]:
    if arn not in BROAD_MANAGED_POLICIES:
        return []
    return [
        f"{arn} is attached to {where}: it grants {BROAD_MANAGED_POLICIES[arn]}; attach a "
        "policy that names the pool's own resources instead (in pushpools, leave "
        "attach_ecs_full_access off)"
    ]


def _check_document(document: Mapping[str, Any] | None, where: str) -> list[str]:
    if document is None:
        return []
    problems = []
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect", "Allow") != "Allow":
            continue
        resources = as_list(statement.get("Resource"))
        if "*" not in resources and "NotResource" not in statement:
            continue
        label = f"{where}, statement {statement.get('Sid') or index}"
        if "NotAction" in statement:
            problems.append(
                f'{label} allows every action except {as_list(statement["NotAction"])} on "*", '
                f"which includes {PASS_ROLE} and every ECS action; list the actions it needs "
                "in Action instead"
            )
            continue
        patterns = [str(a) for a in as_list(statement.get("Action"))]
        if any(matches(p, PASS_ROLE) for p in patterns):
            problems.append(f'{label} allows {PASS_ROLE} on "*"; {_FIX_PASS_ROLE}')
        ecs = sorted({a for p in patterns for a in matched(p, ECS_ACTIONS_PER_RESOURCE)})
        if ecs:
            shown = ", ".join(ecs[:6]) + (f" and {len(ecs) - 6} more" if len(ecs) > 6 else "")
            problems.append(f'{label} allows {shown} on "*"; {_FIX_ECS}')
    return problems
