"""Mandatory: no `roles/iam.serviceAccountUser` on a whole project, folder or organization.

Granted there, it lets its holder run jobs as *every* service account in scope, including
the default compute account that usually holds Editor: Prefect's helper does this.
pushpools grants it on the pool's one runtime account (`gcp:serviceaccount/iAMMember`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pushpools_policy.common import as_list, json_document

ACT_AS_ROLE = "roles/iam.serviceAccountUser"

# Grants of one role to members (`role`) and whole IAM policies (`policyData`), per scope.
_MEMBER_TYPES = {
    "gcp:projects/iAMMember:IAMMember": ("project", "project"),
    "gcp:projects/iAMBinding:IAMBinding": ("project", "project"),
    "gcp:folder/iAMMember:IAMMember": ("folder", "folder"),
    "gcp:folder/iAMBinding:IAMBinding": ("folder", "folder"),
    "gcp:organizations/iAMMember:IAMMember": ("organization", "orgId"),
    "gcp:organizations/iAMBinding:IAMBinding": ("organization", "orgId"),
}
_POLICY_TYPES = {
    "gcp:projects/iAMPolicy:IAMPolicy": ("project", "project"),
    "gcp:folder/iAMPolicy:IAMPolicy": ("folder", "folder"),
    "gcp:organizations/iAMPolicy:IAMPolicy": ("organization", "orgId"),
}

_FIX = (
    "grant it on the one service account the jobs run as instead "
    "(gcp:serviceaccount/IAMMember with serviceAccountId; in a pushpools stack, remove "
    "`service_account_user_scope: project` from the pool's gcp section)"
)


def check(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if resource_type in _MEMBER_TYPES:
        scope, key = _MEMBER_TYPES[resource_type]
        if props.get("role") != ACT_AS_ROLE:
            return []
        members = as_list(props.get("member")) + as_list(props.get("members"))
        return [_message(scope, props.get(key), members)]
    if resource_type in _POLICY_TYPES:
        scope, key = _POLICY_TYPES[resource_type]
        policy = json_document(props.get("policyData")) or {}
        return [
            _message(scope, props.get(key), as_list(binding.get("members")))
            for binding in as_list(policy.get("bindings"))
            if isinstance(binding, Mapping) and binding.get("role") == ACT_AS_ROLE
        ]
    return []


def _message(scope: str, where: Any, members: list[Any]) -> str:
    who = ", ".join(str(m) for m in members) or "its members"
    return (
        f"{ACT_AS_ROLE} is granted to {who} on the whole {scope} {where}: that lets them act "
        f"as every service account of the {scope}; {_FIX}"
    )
