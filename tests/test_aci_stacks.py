"""The shipped stack files plan offline, and an Azure-only stack stays light to import."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pushpools.components.azure.pool import REQUIRED_RESOURCE_PROVIDERS
from pushpools.components.azure.settings import DEFAULT_GRACE_DAYS
from pushpools.components.config import PoolType
from pushpools.components.config.pool_types import POOL_KINDS, SUPPORTED_CLOUDS, Cloud
from pushpools_tools.cli import main
from pushpools_tools.engine import ProgramRun, reveal
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import SECRET_PLACEHOLDER, load_stack, stack_file_path
from tests.clock import fixed_clock
from tests.harness import PROJECT_DIR, inputs

AZURE_ONLY = PROJECT_DIR / "benchmarks" / "stacks" / "azure-only.yaml"


def plan(stack: str) -> ProgramRun:
    return run_stack(PROJECT_DIR, load_stack(PROJECT_DIR, stack_file_path(PROJECT_DIR, stack)))


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["plan", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_dev_stack_has_one_pool_of_every_supported_cloud() -> None:
    run = plan("dev")
    types = [PoolType(pool["type"]) for pool in run.outputs["pools"].values()]
    # Coiled came after the dev stack's plan was recorded for the upgrade test
    # (tests/upgrade/recorded/dev.json): a Coiled pool there means re-recording it.
    assert {POOL_KINDS[t].cloud for t in types} == SUPPORTED_CLOUDS - {Cloud.COILED}
    assert {PoolType.AZURE_CONTAINER_INSTANCE_PUSH, PoolType.MODAL_PUSH} <= set(types)
    assert PoolType.PREFECT_MANAGED in types


def test_the_dev_modal_pool_reads_its_token_from_encrypted_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = plan("dev")
    modal = [name for name, p in run.outputs["pools"].items() if p["type"] == "modal:push"]
    assert len(modal) == 1
    # Offline, ciphertext stands in as an opaque secret; it reaches the block as one.
    data = reveal(run.outputs["credentials_blocks"])[modal[0]]["data"]
    assert data == {"token_id": SECRET_PLACEHOLDER, "token_secret": SECRET_PLACEHOLDER}
    document = plan_json(capsys, "--stack", "dev")
    assert document["outputs"]["credentials_blocks"] == "[secret]"
    assert SECRET_PLACEHOLDER not in json.dumps(document)


def test_the_prod_azure_pool_uses_least_privilege_in_its_existing_group() -> None:
    run = plan("prod")
    aci = [n for n, p in run.outputs["pools"].items() if p["type"].startswith("azure")]
    assert len(aci) == 1
    grant = inputs(
        run.one("azure-native:authorization:RoleAssignment", f"{aci[0]}-run-container-groups")
    )
    role = inputs(run.one("azure-native:authorization:RoleDefinition", f"{aci[0]}-aci-runner-role"))
    assert grant["scope"] == role["scope"]
    assert grant["scope"].endswith("/resourceGroups/rg-data-platform-prod")
    assert run.find("azure-native:resources:ResourceGroup") == []


def test_the_azure_only_stack_plans(capsys: pytest.CaptureFixture[str]) -> None:
    document = plan_json(capsys, "--stack-file", str(AZURE_ONLY))
    pools = document["outputs"]["pools"]
    assert [p["type"] for p in pools.values()] == ["azure-container-instance:push"]


_IMPORTS = """
import json, sys
from pathlib import Path
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import load_stack
project = Path(sys.argv[1])
run_stack(project, load_stack(project, Path(sys.argv[2])))
# azure-native registers its 250-odd submodules lazily; only those used are loaded.
print(json.dumps(sorted(n for n, m in sys.modules.items()
                        if m is not None and type(m).__name__ != "_LazyModule")))
"""


def test_an_azure_only_stack_loads_only_the_azure_modules_it_uses() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTS, str(PROJECT_DIR), str(AZURE_ONLY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
    )
    loaded = json.loads(result.stdout)
    azure_native = {n.split(".")[1] for n in loaded if n.startswith("pulumi_azure_native.")}
    assert azure_native == {
        "_utilities",
        "provider",
        "resources",
        "authorization",
        "containerregistry",
        "managedidentity",
    }
    other_clouds = ("pulumi_gcp", "pulumi_aws", "boto3", "botocore", "google.cloud")
    assert [n for n in loaded if n.startswith(other_clouds)] == []
    assert "pushpools.components.gcp.pool" not in loaded
    # Nor the config models of the clouds it does not use.
    unused_settings = ("gcp", "aws", "modal", "managed")
    assert [m for m in unused_settings if f"pushpools.components.config.{m}" in loaded] == []


def test_the_docs_say_how_to_register_the_resource_providers() -> None:
    page = (PROJECT_DIR / "docs" / "azure-aci.md").read_text()
    section = page.split("\n## Prerequisites\n", 1)[1].split("\n## ", 1)[0]
    for namespace in REQUIRED_RESOURCE_PROVIDERS:
        assert f"az provider register --namespace {namespace}" in section


@pytest.mark.parametrize("day", [date(2027, 11, 1), date(2031, 6, 30)])
def test_the_shipped_stacks_plan_on_any_day_with_secrets_that_rotate(day: date) -> None:
    """No date in the shipped stacks runs out: on the day the dev secret's old fixed date
    fell, and years later, every stack plans, each Azure secret ending its rotation period
    plus grace after that day."""
    files = [*sorted(Path(PROJECT_DIR / "stacks").glob("Pulumi.*.yaml")), AZURE_ONLY]
    with fixed_clock(day):
        for path in files:
            settings = load_stack(PROJECT_DIR, path)
            pools = json.loads(settings.config.get("pushpools:pools", "[]"))
            run = run_stack(PROJECT_DIR, settings)
            for pool in pools:
                if "azure" not in pool:
                    continue
                assert "client_secret_expires_on" not in pool["azure"], path.name
                days = pool["azure"]["client_secret_rotation_days"] + DEFAULT_GRACE_DAYS
                secret = run.one(
                    "azuread:index/applicationPassword:ApplicationPassword",
                    f"{pool['name']}-client-secret",
                )
                end = (day + timedelta(days=days)).isoformat()
                assert inputs(secret)["endDate"] == f"{end}T00:00:00Z", path.name
