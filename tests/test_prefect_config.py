"""Registration settings, the Prefect resources the stack program declares, and what the
offline plan shows of them. No Prefect server here: the offline engine only records.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import dill
import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.engine import ProgramRun, contains_secret, is_secret, reveal
from pushpools_tools.plan import plan_document, render_text
from tests.harness import PROJECT_DIR, config_problems, modules_imported_by_plan, run_config

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
SELF_HOSTED = "http://prefect.internal:4200/api"
CLOUD = (
    "https://api.prefect.cloud/api/accounts/8c4b9b3e-1a2d-4e5f-9a0b-1c2d3e4f5a6b"
    "/workspaces/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
)
API_KEY = "pnu_DoNotLeakThisKey0123456789abcdefghij"

WORKER_POOL = {
    "name": "runs",
    "type": "cloud-run",
    "description": "Flow runs on Cloud Run",
    "gcp": {"project": "acme-data-dev", "region": "europe-west1"},
}
PUSH_POOL = {**WORKER_POOL, "type": "cloud-run:push"}


def stack(*pools: dict[str, Any], prefect: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"pushpools:pools": list(pools)}
    if prefect is not None:
        config["pushpools:prefect"] = prefect
    return config


def test_without_a_prefect_url_nothing_is_registered_and_the_outputs_carry_the_payloads() -> None:
    run = run_config(stack(PUSH_POOL))

    assert run.find(BLOCK) == []
    assert run.find(WORK_POOL) == []
    assert run.outputs["prefect_registration"] == {
        "enabled": False,
        "api_url": None,
        "source": "no Prefect API URL configured",
        "pools": {},
    }
    assert is_secret(run.outputs["credentials_blocks"])
    assert "runs" in reveal(run.outputs["credentials_blocks"])


def test_prefect_api_url_from_the_environment_registers_block_and_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED + "/")
    run = run_config(stack(WORKER_POOL))

    block = run.one(BLOCK, "runs-credentials-block")
    pool = run.one(WORK_POOL, "runs-work-pool")
    component = run.one("pushpools:gcp:CloudRunPushPool", "runs")
    assert block.parent == component.urn
    assert pool.parent == component.urn

    assert is_secret(block.inputs["data"])
    assert reveal(block.inputs)["type_slug"] == "gcp-credentials"
    assert reveal(block.inputs)["name"] == "runs-push-pool-credentials"
    assert reveal(block.inputs)["api_url"] == SELF_HOSTED  # one spelling per endpoint

    wired = reveal(pool.inputs)
    assert wired["type"] == "cloud-run"
    assert wired["description"] == "Flow runs on Cloud Run"
    assert wired["credentials_variable"] == "credentials"
    # The pool references exactly the block the stack registers (and so is deleted first).
    assert wired["block_document_id"] == reveal(block.outputs)["block_document_id"]
    assert wired["template_defaults"] == run.outputs["pools"]["runs"]["template_defaults"]

    registration = run.outputs["prefect_registration"]
    assert registration["enabled"] is True
    assert registration["api_url"] == SELF_HOSTED
    assert registration["source"] == "PREFECT_API_URL (environment)"
    assert registration["pools"]["runs"] == {
        "work_pool_id": reveal(pool.outputs)["pool_id"],
        "block_document_id": reveal(block.outputs)["block_document_id"],
    }
    assert not contains_secret(registration)
    assert not contains_secret(run.outputs["pools"])


def test_the_stack_config_url_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://somewhere-else:4200/api")
    run = run_config(stack(WORKER_POOL, prefect={"api_url": SELF_HOSTED}))

    assert reveal(run.one(WORK_POOL).inputs)["api_url"] == SELF_HOSTED
    assert run.outputs["prefect_registration"]["source"] == "pushpools:prefect.api_url"


def _assert_key_never_in_plain_text(run: ProgramRun) -> None:
    for resource in (run.one(BLOCK), run.one(WORK_POOL)):
        assert is_secret(resource.inputs["api_key"])
        assert is_secret(resource.outputs["api_key"])
    document = json.dumps(plan_document(run))
    assert API_KEY not in document
    assert API_KEY not in render_text(run)
    plain = {k: v for k, v in run.outputs.items() if k != "credentials_blocks"}
    assert API_KEY not in json.dumps(plain)


def test_prefect_cloud_with_the_key_from_stack_config_as_a_secret() -> None:
    config = {
        **stack(PUSH_POOL, prefect={"api_url": CLOUD}),
        "pushpools:prefectApiKey": API_KEY,
    }
    run = run_config(config, secret_keys=["pushpools:prefectApiKey"])

    assert reveal(run.one(WORK_POOL).inputs)["type"] == "cloud-run:push"
    assert reveal(run.one(BLOCK).inputs)["api_key"] == API_KEY
    _assert_key_never_in_plain_text(run)


def test_prefect_cloud_with_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", CLOUD)
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    run = run_config(stack(PUSH_POOL))

    assert reveal(run.one(BLOCK).inputs)["api_key"] == API_KEY
    _assert_key_never_in_plain_text(run)


def test_registration_turned_off_declares_nothing_in_prefect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED)
    run = run_config(stack(PUSH_POOL, prefect={"enabled": False}))

    assert run.find(BLOCK) == []
    assert run.find(WORK_POOL) == []
    assert run.outputs["prefect_registration"]["enabled"] is False
    assert "pushpools:prefect.enabled is false" in run.outputs["prefect_registration"]["source"]
    text = render_text(run)
    assert "Registration in Prefect: OFF (pushpools:prefect.enabled is false)" in text


def test_per_pool_settings_reach_the_work_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED)
    pool = {
        **WORKER_POOL,
        "prefect": {"adopt_existing": True, "concurrency_limit": 5, "paused": True},
    }
    run = run_config(stack(pool))

    wired = reveal(run.one(WORK_POOL).inputs)
    assert wired["concurrency_limit"] == 5
    assert wired["paused"] is True
    assert wired["adopt_existing"] is True
    assert reveal(run.one(BLOCK).inputs)["adopt_existing"] is True


def test_each_pool_exports_its_prefect_yaml_snippet() -> None:
    run = run_config(stack(WORKER_POOL))

    assert yaml.safe_load(run.outputs["prefect_yaml"]["runs"]) == {
        "work_pool": {
            "name": "runs",
            "job_variables": {
                "image": "europe-west1-docker.pkg.dev/acme-data-dev/runs-images/<image>:<tag>"
            },
        }
    }
    assert run.outputs["pools"]["runs"]["image_namespace"] == (
        "europe-west1-docker.pkg.dev/acme-data-dev/runs-images"
    )


def test_the_plan_says_whether_and_where_it_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    off = render_text(run_config(stack(WORKER_POOL)))
    assert "Registration in Prefect: OFF (no Prefect API URL configured)" in off
    assert "prefect.yaml, in a deployment:" in off

    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED)
    on = render_text(run_config(stack(WORKER_POOL)))
    assert f"Registration in Prefect: ON, at {SELF_HOSTED} (from PREFECT_API_URL" in on
    assert f"+ {BLOCK}  runs-credentials-block" in on
    assert f"+ {WORK_POOL}  runs-work-pool" in on
    assert "__provider" not in on


def test_the_offline_plan_never_imports_prefect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With registration on, so that the Prefect resources are declared."""
    dev = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.dev.yaml").read_text())
    dev["config"]["pushpools:prefect"] = {"api_url": CLOUD}
    dev["config"]["pushpools:prefectApiKey"] = {"secure": "v1:ciphertext-only-the-cli-reads"}
    stack_file = tmp_path / "Pulumi.registering.yaml"
    stack_file.write_text(yaml.safe_dump(dev))

    imported = modules_imported_by_plan(stack_file)

    assert imported["status"] == 0
    assert "pushpools.components.prefect.work_pools" in imported["all"]
    assert "prefect" not in imported["top"]


@pytest.mark.parametrize("provider", [BlockProvider, WorkPoolProvider])
def test_providers_are_pickled_by_reference_and_load_in_a_fresh_process(provider: type) -> None:
    """`pulumi up` runs a dynamic provider from its pickle in another process: ours must be
    a small reference to an importable class, not a copy of code (or of any state)."""
    serialized = serialize_provider(provider())
    raw = base64.b64decode(serialized)
    assert len(raw) < 300
    assert isinstance(dill.loads(raw), provider)
    loads = (
        "import base64, dill, sys; p = dill.loads(base64.b64decode(sys.argv[1])); "
        "print(type(p).__module__, type(p).__name__, 'prefect' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", loads, serialized],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == [provider.__module__, provider.__name__, "False"]
    assert pickle.DEFAULT_PROTOCOL >= 4


def test_a_template_file_is_rendered_offline_with_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED)
    template = {
        "job_configuration": {"region": "{{ region }}", "credentials": "{{ credentials }}"},
        "variables": {
            "type": "object",
            "properties": {
                "region": {"type": "string"},
                "service_account_name": {"type": "string"},
                "credentials": {"type": "object"},
            },
        },
    }
    path = tmp_path / "cloud-run.json"
    path.write_text(json.dumps(template))
    pool = {**WORKER_POOL, "prefect": {"base_job_template_file": str(path)}}

    run = run_config(stack(pool))

    work_pool = run.one(WORK_POOL)
    assert reveal(work_pool.inputs)["base_template"] == template
    rendered = reveal(work_pool.outputs)["base_job_template"]["variables"]["properties"]
    assert rendered["region"]["default"] == "europe-west1"
    assert rendered["credentials"]["default"] == {
        "$ref": {"block_document_id": reveal(run.one(BLOCK).outputs)["block_document_id"]}
    }


# --- refused before anything is declared -------------------------------------------------


def test_enabled_without_a_url_is_refused() -> None:
    problems = config_problems(stack(WORKER_POOL, prefect={"enabled": True}))
    assert problems == [
        "pushpools:prefect.enabled: true, but no Prefect API URL is configured; set "
        "pushpools:prefect.api_url or PREFECT_API_URL, or set enabled: false"
    ]


def test_a_push_type_against_a_self_hosted_server_is_refused_with_the_worker_type() -> None:
    problems = config_problems(stack(PUSH_POOL, prefect={"api_url": SELF_HOSTED}))
    assert len(problems) == 1
    assert problems[0].startswith(
        "pushpools:pools[0].type: pool type 'cloud-run:push' exists only in Prefect Cloud, "
        f"but {SELF_HOSTED} is a self-hosted Prefect server"
    )
    assert "use the worker type 'cloud-run'" in problems[0]
    assert "same cloud infrastructure" in problems[0]


def test_the_environment_url_is_named_when_it_is_the_culprit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", SELF_HOSTED)
    (problem,) = config_problems(stack(PUSH_POOL))
    assert "(the URL comes from PREFECT_API_URL (environment))" in problem

    monkeypatch.setenv("PREFECT_API_URL", "prefect.internal:4200")
    (problem,) = config_problems(stack(WORKER_POOL))
    assert problem.startswith("PREFECT_API_URL (environment): 'prefect.internal:4200' is not")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://prefect.internal/api", "is not an http(s) URL"),
        ("https://api.prefect.cloud/api", "is a Prefect Cloud URL without a workspace"),
        ("http://admin:hunter2-secret@prefect.internal:4200/api", "credentials inside the URL"),
    ],
)
def test_a_bad_api_url_is_refused(url: str, expected: str) -> None:
    (problem,) = config_problems(stack(WORKER_POOL, prefect={"api_url": url}))
    assert problem.startswith("pushpools:prefect.api_url: ")
    assert expected in problem
    assert "hunter2" not in problem


def test_a_key_stored_in_plain_text_is_refused() -> None:
    config = {**stack(PUSH_POOL, prefect={"api_url": CLOUD}), "pushpools:prefectApiKey": API_KEY}
    problems = config_problems(config)
    assert problems == [
        "pushpools:prefectApiKey: holds a credential but is stored in plain text; set it with "
        "`pulumi config set --secret pushpools:prefectApiKey <value>`"
    ]


def test_prefect_cloud_without_a_key_is_refused() -> None:
    (problem,) = config_problems(stack(PUSH_POOL, prefect={"api_url": CLOUD}))
    assert problem.startswith("pushpools:prefectApiKey: Prefect Cloud")
    assert "PREFECT_API_KEY" in problem


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"variables": {"properties": {}}}', "missing: job_configuration"),
        (
            '{"job_configuration": {}, "variables": {"properties": {"region": {}}}}',
            "it has no variable 'credentials'",
        ),
    ],
)
def test_a_bad_template_file_is_refused(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "template.json"
    if content is not None:
        path.write_text(content)
    pool = {**WORKER_POOL, "prefect": {"base_job_template_file": str(path)}}
    (problem,) = config_problems(stack(pool))
    assert problem.startswith(f"pushpools:pools[0].prefect.base_job_template_file: '{path}': ")
    assert expected in problem


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"concurrency_limit": -1}, "pushpools:pools[0].prefect.concurrency_limit: -1 is not"),
        ({"adopt": True}, "pushpools:pools[0].prefect.adopt: unknown key; allowed keys here:"),
        ({"base_job_template_file": "t.txt"}, "a .json, .yaml or .yml file"),
    ],
)
def test_bad_pool_prefect_settings_are_refused(section: dict[str, Any], expected: str) -> None:
    (problem,) = config_problems(stack({**WORKER_POOL, "prefect": section}))
    assert expected in problem
