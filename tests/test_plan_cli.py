"""`pushpools plan`: the offline plan a newcomer runs first, and a reviewer reads."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
from harness import PROJECT_DIR, modules_imported_by_plan, plan_cli

from pushpools.components.config import StackConfig
from pushpools_tools.engine import reveal
from pushpools_tools.plan import plan_document, render_text, run_stack
from pushpools_tools.provider_mocks.keys import OFFLINE_PLAN_CANARY
from pushpools_tools.stackfile import load_stack

BENCH_STACKS = PROJECT_DIR / "benchmarks" / "stacks"


@pytest.fixture(scope="module")
def dev_text() -> str:
    result = plan_cli("--stack", "dev")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def dev_json() -> dict:
    result = plan_cli("--stack", "dev", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_text_plan_says_it_is_offline_and_lists_every_resource(dev_text, dev_json) -> None:
    assert "offline plan" in dev_text
    assert "no cloud, no Prefect and no Pulumi CLI were contacted" in dev_text
    for resource in dev_json["resources"]:
        assert f"{resource['type']}  {resource['name']}" in dev_text


def test_text_plan_shows_grants_with_their_scope(dev_text) -> None:
    assert "role: roles/run.developer" in dev_text
    assert "role: roles/iam.serviceAccountUser" in dev_text
    assert "serviceAccountId: projects/acme-data-dev/serviceAccounts/dev-cloud-run-jobs@" in (
        dev_text
    )


def test_text_plan_shows_what_prefect_will_receive(dev_text) -> None:
    assert "work pool 'dev-cloud-run' of type 'cloud-run:push'" in dev_text
    assert "credentials block gcp-credentials/dev-cloud-run-push-pool-credentials" in dev_text
    assert "template default region: europe-west1" in dev_text


def test_json_plan_has_the_documented_shape(dev_json) -> None:
    assert dev_json["stack"] == "dev"
    assert set(dev_json) == {"stack", "resources", "outputs"}
    for resource in dev_json["resources"]:
        assert set(resource) - {"options"} == {
            "type",
            "name",
            "urn",
            "parent",
            "inputs",
            "dependencies",
        }
        assert resource.get("options", {"set": True})  # present only where an option is set
    urns = {r["urn"] for r in dev_json["resources"]}
    component = next(r for r in dev_json["resources"] if r["name"] == "dev-cloud-run")
    assert component["parent"] is None
    children = [r for r in dev_json["resources"] if r["parent"] is not None]
    assert children
    assert all(r["parent"] in urns for r in children)


def test_no_secret_reaches_the_plan(dev_text, dev_json) -> None:
    """The CLI's mocked keys hold a canary: finding it in the output is finding a leak."""
    assert dev_json["outputs"]["credentials_blocks"] == "[secret]"
    for text in (dev_text, json.dumps(dev_json)):
        assert OFFLINE_PLAN_CANARY not in text
        assert "private_key" not in text


def test_no_real_key_reaches_a_rendered_plan() -> None:
    """The same rendering, with real throwaway keys in every credential."""
    settings = load_stack(PROJECT_DIR, PROJECT_DIR / "stacks" / "Pulumi.dev.yaml")
    run = run_stack(PROJECT_DIR, settings)
    assert "BEGIN PRIVATE KEY" in json.dumps(reveal(run.outputs["credentials_blocks"]))
    for text in (render_text(run), json.dumps(plan_document(run))):
        assert "PRIVATE KEY" not in text


def test_unquoted_yaml_dates_reach_the_program_as_pulumi_hands_them_over(tmp_path: Path) -> None:
    # yaml.v3 reads an unquoted date as a timestamp, and Pulumi hands it over as Go prints
    # a time: not the date that was written (a quoted date stays as written).
    stack = tmp_path / "Pulumi.dated.yaml"
    stack.write_text("config:\n  pushpools:since: 2027-01-31\n  pushpools:until: '2027-01-31'\n")
    settings = load_stack(PROJECT_DIR, stack)
    assert settings.config["pushpools:since"] == "2027-01-31 00:00:00 +0000 UTC"
    assert settings.config["pushpools:until"] == "2027-01-31"


def test_bad_config_exits_2_with_the_messages_only(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(
        "config:\n"
        "  pushpools:pools:\n"
        "    - name: prefect-ml\n"
        "      type: cloud-run:push\n"
        "      gcp: {project: Bad_Project}\n"
    )
    result = plan_cli("--stack-file", str(stack))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "pushpools:pools[0].name: 'prefect-ml' is refused by Prefect" in result.stderr
    assert "pushpools:pools[0].gcp.project: 'Bad_Project' is not a valid GCP project ID" in (
        result.stderr
    )


def test_a_missing_stack_exits_2_naming_the_file() -> None:
    result = plan_cli("--stack", "nosuchstack")
    assert result.returncode == 2
    assert "stacks/Pulumi.nosuchstack.yaml: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_encrypted_values_stay_opaque_secrets(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.enc.yaml"
    stack.write_text(
        "config:\n"
        "  pushpools:labels:\n"
        "    secure: v1:AAAABBBBCCCC\n"
        "  pushpools:pools:\n"
        "    - {name: ml, type: cloud-run:push, gcp: {project: acme-data-dev}}\n"
    )
    result = plan_cli("--stack-file", str(stack))
    assert result.returncode == 2
    assert "pushpools:labels: is stored as a secret" in result.stderr
    assert "AAAABBBBCCCC" not in result.stderr + result.stdout


def test_the_prod_example_stack_plans() -> None:
    result = plan_cli("--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    roles = {
        r["inputs"].get("role")
        for r in json.loads(result.stdout)["resources"]
        if r["type"] == "gcp:projects/iAMMember:IAMMember"
    }
    assert {"roles/run.developer", "roles/bigquery.jobUser"} <= roles


def test_a_gcp_only_stack_imports_no_other_cloud_sdk_and_no_prefect() -> None:
    imported = modules_imported_by_plan(BENCH_STACKS / "gcp-only.yaml")
    assert imported["status"] == 0
    assert "pulumi_gcp" in imported["top"]
    for other in ("pulumi_aws", "pulumi_azure_native", "pulumi_azuread", "prefect"):
        assert other not in imported["top"]


def test_a_stack_that_registers_nothing_loads_none_of_the_prefect_side() -> None:
    # Registration off (no Prefect API URL): the Prefect providers, their client and the
    # URL checks are not imported, so a plan of such a stack does not pay for them.
    imported = modules_imported_by_plan(BENCH_STACKS / "gcp-only.yaml")
    assert imported["status"] == 0
    prefect_side = {
        f"pushpools.components.prefect.{module}"
        for module in ("blocks", "work_pools", "work_queues", "templates", "client", "connection")
    }
    assert prefect_side.isdisjoint(imported["all"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_successful_plan_prints_nothing_on_stderr(stack: str) -> None:
    # Not even asyncio's "Exception ignored ... Invalid file descriptor" at exit.
    result = plan_cli("--stack", stack, "--json")
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_plan_validates_the_config_with_pydantic_models() -> None:
    # The plan's config check is the stack program's own: StackConfig.model_validate.
    assert issubclass(StackConfig, pydantic.BaseModel)
    with pytest.raises(pydantic.ValidationError):
        StackConfig.model_validate({"pools": []})


def test_the_plan_is_the_same_whatever_order_the_program_registered_in() -> None:
    # Registration order follows when each resource's inputs resolved, which varies from
    # run to run; two plans of one stack must read the same, or a reviewer comparing them
    # sees changes that are not there.
    import dataclasses
    import random

    settings = load_stack(PROJECT_DIR, PROJECT_DIR / "stacks" / "Pulumi.dev.yaml")
    run = run_stack(PROJECT_DIR, settings)
    order = random.Random(7).sample(run.resources, k=len(run.resources))
    shuffled = dataclasses.replace(run, resources=order)
    assert [r.urn for r in shuffled.resources] != [r.urn for r in run.resources]
    assert render_text(shuffled, settings) == render_text(run, settings)
    assert plan_document(shuffled, settings) == plan_document(run, settings)


def test_the_plan_lists_pools_as_the_stack_file_does_and_each_resource_after_what_it_waits_for(
    dev_text, dev_json
) -> None:
    pools = [line.split()[-1] for line in dev_text.splitlines() if line.startswith("  + ")]
    assert pools == ["dev-cloud-run", "dev-aci", "dev-modal", "dev-managed", "dev-ecs"]
    position = {r["urn"]: i for i, r in enumerate(dev_json["resources"])}
    for resource in dev_json["resources"]:
        for dependency in resource["dependencies"]:
            if dependency in position:
                assert position[dependency] < position[resource["urn"]], resource["name"]
    # Within a pool, the text shows resources in that order too: a key after its account.
    assert dev_text.index("dev-cloud-run-prefect-sa") < dev_text.index("dev-cloud-run-key")
