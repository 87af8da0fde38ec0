"""Mandatory: no Azure role above Contributor for a pool identity.

Owner, User Access Administrator and Role Based Access Control Administrator can grant
roles, so the identity Prefect signs in as could give itself (or anyone) any access in
scope. Contributor is the most Prefect's ACI push pools need (pushpools offers a
narrower custom role); a custom role that may write role assignments is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pushpools_policy.common import as_list

# Built-in role definition IDs (the same GUID in every subscription):
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
ABOVE_CONTRIBUTOR = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
# Custom-role actions that let the holder grant access (Contributor excludes them).
_GRANTING = ("microsoft.authorization/roleassignments/write", "microsoft.authorization/*")


def check(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if _is(resource_type, "RoleAssignment"):
        role_id = str(props.get("roleDefinitionId") or "")
        guid = role_id.rstrip("/").rsplit("/", 1)[-1].lower()
        if guid not in ABOVE_CONTRIBUTOR:
            return []
        return [
            f"role assignment gives {ABOVE_CONTRIBUTOR[guid]} ({guid}) to principal "
            f"{props.get('principalId')} on {props.get('scope')}: it can grant access to "
            "anyone; give the pool identity Contributor on the pool's resource group at most "
            "(b24988ac-6180-42a0-ab88-20f7382dd24c), or pushpools' `role: least-privilege`"
        ]
    if _is(resource_type, "RoleDefinition"):
        problems = []
        for permission in as_list(props.get("permissions")):
            if not isinstance(permission, Mapping):
                continue
            excluded = [str(a).lower() for a in as_list(permission.get("notActions"))]
            for action in as_list(permission.get("actions")):
                if _grants_access(str(action).lower(), excluded):
                    problems.append(
                        f"custom role {props.get('roleName')!r} allows {action!r}, which "
                        "includes Microsoft.Authorization/roleAssignments/write (more than "
                        "Contributor); list only the actions the pool needs, or add "
                        "Microsoft.Authorization/*/Write to notActions"
                    )
        return problems
    return []


def _is(resource_type: str, kind: str) -> bool:
    # azure-native tokens: `azure-native:authorization:<Kind>`, or an API-versioned module.
    return resource_type.startswith("azure-native:authorization") and resource_type.endswith(
        f":{kind}"
    )


def _grants_access(action: str, excluded: list[str]) -> bool:
    if "microsoft.authorization/*/write" in excluded or "*" in excluded:
        return False
    return action == "*" or action in _GRANTING
