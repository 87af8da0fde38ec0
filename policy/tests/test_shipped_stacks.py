"""Every shipped stack passes every rule, judged on the inputs its offline plan records."""

from __future__ import annotations

from typing import Any

from tests.crossguard import analyze, analyze_stack, servicer
from tests.plans import SHIPPED_STACKS, stack_resource


def test_every_shipped_stack_is_planned(shipped_plans: dict[str, dict[str, Any]]) -> None:
    assert sorted(shipped_plans) == sorted(f.name for f in SHIPPED_STACKS)
    assert {"Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.keyless.yaml"} <= set(shipped_plans)


def test_no_resource_of_a_shipped_stack_violates_a_rule(
    shipped_plans: dict[str, dict[str, Any]],
) -> None:
    analyzer = servicer()
    violations = {
        (stack, resource["type"], resource["name"]): found
        for stack, document in shipped_plans.items()
        for resource in document["resources"]
        if (found := analyze(resource, analyzer))
    }
    assert violations == {}


def test_no_shipped_stack_violates_a_stack_rule(shipped_plans: dict[str, dict[str, Any]]) -> None:
    for document in shipped_plans.values():
        resources = [stack_resource(document), *document["resources"]]
        assert analyze_stack(resources) == []


def test_the_shipped_stacks_hold_what_the_rules_judge(
    shipped_plans: dict[str, dict[str, Any]],
) -> None:
    # "All pass" means something only if the rules had something to judge.
    types = {r["type"] for d in shipped_plans.values() for r in d["resources"]}
    assert {
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:projects/iAMMember:IAMMember",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:RoleDefinition",
        "azuread:index/applicationPassword:ApplicationPassword",
        "aws:iam/accessKey:AccessKey",
        "gcp:serviceaccount/key:Key",
        "gcp:artifactregistry/repository:Repository",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/rolePolicy:RolePolicy",
    } <= types
    dev = shipped_plans["Pulumi.dev.yaml"]
    assert dev["outputs"]["credentials_blocks"] == "[secret]"
    assert dev["outputs"]["pools"]
