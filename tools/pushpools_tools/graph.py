"""The dependency graph of a plan: what `pulumi up` must create before what.

Built from the JSON plan (`pushpools plan --json`), whose resources carry the
dependencies their registration requests named. Component resources create nothing
(they are instant groupings), so an edge to a component stands for edges to every
resource inside it, as the engine treats it; explicit provider resources are folded
away the same way (configuring a provider is not a step a reviewer waits for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

PROVIDER_PREFIX = "pulumi:providers:"
STACK_TYPE = "pulumi:pulumi:Stack"

# What a node is, for the diagram's styling and the diff's ordering. Matched on the type
# token's module and type parts, so that new resource types of the same kind are caught.
_GRANT_MARKERS = ("IAMMember", "IAMBinding", "iamMember", "iamBinding", "RoleAssignment")
_POLICY_MARKERS = ("Policy", "RoleDefinition", "PolicyAttachment")
_IDENTITY_MARKERS = (
    "serviceaccount/account:Account",
    "iam/user:User",
    "iam/role:Role",
    "UserAssignedIdentity",
    "application:Application",
    "servicePrincipal:ServicePrincipal",
    "WorkloadIdentityPool",
    "openIdConnectProvider",
    "FederatedIdentityCredential",
)
_CREDENTIAL_MARKERS = ("serviceaccount/key:Key", "accessKey:AccessKey", "applicationPassword")


def kind_of(type_: str) -> str:
    """One of: component, prefect, grant, policy, identity, credential, resource."""
    if type_.startswith("pushpools:"):
        return "component"
    if type_.startswith("pulumi-python:dynamic/prefect:"):
        return "prefect"
    if type_ == "aws:iam/role:Role":
        return "identity"
    if any(marker in type_ for marker in _GRANT_MARKERS):
        return "grant"
    if any(marker in type_ for marker in _POLICY_MARKERS) and "lifecyclePolicy" not in type_:
        return "policy"
    if any(marker in type_ for marker in _IDENTITY_MARKERS):
        return "identity"
    if any(marker in type_ for marker in _CREDENTIAL_MARKERS):
        return "credential"
    return "resource"


@dataclass(frozen=True)
class Node:
    urn: str
    type: str
    name: str
    pool: str | None
    """The top-level component (the pool) the resource belongs to."""

    @property
    def kind(self) -> str:
        return kind_of(self.type)


class ResourceGraph:
    """The resources that `pulumi up` creates, and which must exist before which."""

    def __init__(self, document: dict[str, Any]) -> None:
        resources = document.get("resources") or []
        self._parent = {r["urn"]: r.get("parent") for r in resources}
        by_urn = {r["urn"]: r for r in resources}
        self._children: dict[str, list[str]] = {}
        for urn, parent in self._parent.items():
            if parent:
                self._children.setdefault(parent, []).append(urn)
        self._raw_deps = {r["urn"]: list(r.get("dependencies") or []) for r in resources}
        self.nodes: dict[str, Node] = {
            r["urn"]: Node(r["urn"], r["type"], r["name"], self._pool_of(r["urn"], by_urn))
            # By name, not declaration order (which varies run to run): stable diagrams.
            for r in sorted(resources, key=lambda r: (r["name"], r["urn"]))
            if _creates_something(r["type"])
        }
        self.edges: set[tuple[str, str]] = {
            (before, urn) for urn in self.nodes for before in self._expanded(urn, set())
        }
        self.pools: list[str] = [
            r["name"]
            for r in resources
            if not r.get("parent") and kind_of(r["type"]) == "component"
        ]

    def _pool_of(self, urn: str, by_urn: dict[str, dict[str, Any]]) -> str | None:
        while self._parent.get(urn):
            urn = str(self._parent[urn])
        top = by_urn.get(urn)
        return top["name"] if top and kind_of(top["type"]) == "component" else None

    def _expanded(self, urn: str, seen: set[str]) -> set[str]:
        """The creating resources `urn` waits for, through components and providers."""
        found: set[str] = set()
        for dependency in self._raw_deps.get(urn, []):
            if dependency in seen:
                continue
            seen.add(dependency)
            if dependency in self.nodes:
                found.add(dependency)
            else:  # a component: everything inside it; a provider: what it waits for
                found |= self._expanded(dependency, seen)
                found |= {c for c in self._descendants(dependency) if c in self.nodes}
        return found

    def _descendants(self, urn: str) -> Iterable[str]:
        for child in self._children.get(urn, []):
            yield child
            yield from self._descendants(child)

    def pool_nodes(self, pool: str | None) -> list[Node]:
        return [n for n in self.nodes.values() if n.pool == pool]

    def critical_path(self, pool: str) -> list[Node]:
        """The longest chain of the pool's resources that must be created one after
        another (its length is the least number of sequential create steps)."""
        members = {n.urn for n in self.pool_nodes(pool)}
        before: dict[str, list[str]] = {urn: [] for urn in members}
        for first, then in self.edges:
            if first in members and then in members:
                before[then].append(first)

        @cache
        def longest_ending_at(urn: str) -> tuple[str, ...]:
            chains = [longest_ending_at(b) for b in sorted(before[urn])]
            return (*max(chains, key=len, default=()), urn)

        best = max((longest_ending_at(u) for u in sorted(members)), key=len, default=())
        return [self.nodes[urn] for urn in best]


def _creates_something(type_: str) -> bool:
    return (
        kind_of(type_) != "component"
        and type_ != STACK_TYPE
        and not type_.startswith(PROVIDER_PREFIX)
    )
