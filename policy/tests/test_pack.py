"""The pack as the CLI loads it: its entry point, its project file, its policies."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from pushpools_policy.pack import PACK_NAME, build_policies
from pushpools_policy.rules import RULES

PACK_DIR = Path(__file__).resolve().parents[1]


def test_the_entry_point_builds_the_pack_with_every_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    built: dict[str, Any] = {}

    def record(**kwargs: Any) -> None:  # the real one starts a blocking gRPC server
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", record)
    monkeypatch.chdir(tmp_path)  # importable from wherever the CLI starts it
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")
    assert built["name"] == PACK_NAME
    assert [p.name for p in built["policies"]] == [r.name for r in RULES]


def test_the_project_file_names_the_python_runtime() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"] == {"toolchain": "uv"}


def test_policies_have_the_documented_levels_and_stages() -> None:
    policies = {p.name: p for p in build_policies()}
    mandatory = {
        "no-project-wide-service-account-user",
        "no-passrole-or-ecs-on-any-resource",
        "no-azure-role-above-contributor",
        "entra-client-secret-expires",
        "no-credentials-in-plain-outputs",
    }
    assert {
        n for n, p in policies.items() if p.enforcement_level == EnforcementLevel.MANDATORY
    } == mandatory
    assert {n for n, p in policies.items() if p.enforcement_level == EnforcementLevel.ADVISORY} == {
        "ownership-tags",
        "key-max-age",
    }
    stack_level = {n for n, p in policies.items() if isinstance(p, StackValidationPolicy)}
    assert stack_level == {"no-credentials-in-plain-outputs", "key-max-age"}
    assert all(
        isinstance(p, ResourceValidationPolicy) for n, p in policies.items() if n not in stack_level
    )
    schema = policies["key-max-age"].config_schema
    assert schema is not None
    assert schema.properties["maxAgeDays"]["default"] == 90
