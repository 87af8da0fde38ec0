"""The Coiled pool: its token from secret config as a secret `coiled-credentials` block, and
template defaults that prefect-coiled's own variables schema accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pushpools_tools.engine import ProgramRun, is_secret, reveal
from pushpools_tools.plan import plan_document, render_text
from tests.harness import config_problems, run_config

TOKEN = "coiled-tok-9fQ2mW7xLp4RtV"
SECRET_KEYS = ["pushpools:coiledApiToken"]
# prefect-coiled 0.0.4's worker template, recorded from CoiledWorker (see its _source).
WORKER_TEMPLATE = Path(__file__).parent / "coiled" / "coiled_worker_template.json"


def coiled_config(*pools: dict[str, Any], token: str = TOKEN) -> dict[str, Any]:
    return {"pushpools:pools": list(pools), "pushpools:coiledApiToken": token}


FULL = {
    "name": "coiled",
    "type": "coiled:push",
    "coiled": {
        "workspace": "acme-data",
        "region": "us-east-2",
        "software": "etl-env",
        "vm_types": ["m6i.xlarge", "m6i.2xlarge"],
        "arm": False,
        "cpu": 4,
        "memory": "16 GiB",
        "gpu": False,
        "env": {"EXECUTION_ENV": "prod"},
        "additional_coiled_options": {"disk_size": 100, "spot_policy": "spot_with_fallback"},
    },
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_config(coiled_config(FULL), SECRET_KEYS)


def test_a_coiled_pool_without_cloud_setup_declares_no_cloud_resources(run: ProgramRun) -> None:
    assert [(r.type, r.custom) for r in run.resources] == [
        ("pushpools:coiled:CoiledPushPool", False)
    ]


def test_the_block_holds_the_token_from_secret_config_under_the_helpers_name(
    run: ProgramRun,
) -> None:
    assert is_secret(run.outputs["credentials_blocks"])
    assert reveal(run.outputs["credentials_blocks"]) == {
        "coiled": {
            "type_slug": "coiled-credentials",
            "name": "coiled-coiled-credentials",
            "data": {"api_token": TOKEN},
        }
    }


def test_the_pool_points_its_credentials_variable_at_the_block(run: ProgramRun) -> None:
    pool = run.outputs["pools"]["coiled"]
    assert pool["credentials_block"] == {
        "type_slug": "coiled-credentials",
        "name": "coiled-coiled-credentials",
        "variable": "credentials",
    }
    assert pool["template_defaults"] == {
        "workspace": "acme-data",
        "region": "us-east-2",
        "software": "etl-env",
        "vm_types": ["m6i.xlarge", "m6i.2xlarge"],
        "arm": False,
        "cpu": 4,
        "memory": "16 GiB",
        "gpu": False,
        "env": {"EXECUTION_ENV": "prod"},
        "additional_coiled_options": {"disk_size": 100, "spot_policy": "spot_with_fallback"},
    }


def test_every_default_is_valid_for_prefect_coileds_own_variables(run: ProgramRun) -> None:
    variables = json.loads(WORKER_TEMPLATE.read_text())["variables"]
    for name, value in run.outputs["pools"]["coiled"]["template_defaults"].items():
        schema = {**variables["properties"][name], "definitions": variables["definitions"]}
        jsonschema.validate(value, schema)


def test_the_token_appears_in_no_plain_output(run: ProgramRun) -> None:
    for text in (
        json.dumps(run.outputs["pools"]),
        json.dumps(plan_document(run)),
        render_text(run),
    ):
        assert TOKEN not in text


def test_unset_settings_leave_prefect_coileds_defaults_alone() -> None:
    run = run_config(coiled_config({"name": "bare", "type": "coiled", "coiled": {}}), SECRET_KEYS)
    assert run.outputs["pools"]["bare"]["type"] == "coiled"
    assert run.outputs["pools"]["bare"]["template_defaults"] == {}


def test_a_new_token_in_secret_config_is_the_rotation() -> None:
    pool = {"name": "coiled", "type": "coiled:push", "coiled": {"workspace": "acme"}}
    before = reveal(run_config(coiled_config(pool), SECRET_KEYS).outputs["credentials_blocks"])
    after = reveal(
        run_config(coiled_config(pool, token="coiled-tok-new"), SECRET_KEYS).outputs[
            "credentials_blocks"
        ]
    )
    assert before["coiled"]["name"] == after["coiled"]["name"]  # the same block, updated
    assert after["coiled"]["data"] == {"api_token": "coiled-tok-new"}


def test_pools_may_read_their_tokens_from_keys_they_name() -> None:
    prod = {"name": "prod", "type": "coiled:push", "coiled": {"token_key": "coiledProdToken"}}
    config = coiled_config({"name": "dev", "type": "coiled:push", "coiled": {}}, prod)
    config["pushpools:coiledProdToken"] = "coiled-tok-prod"
    blocks = reveal(
        run_config(config, [*SECRET_KEYS, "pushpools:coiledProdToken"]).outputs[
            "credentials_blocks"
        ]
    )
    assert blocks["prod"]["data"] == {"api_token": "coiled-tok-prod"}
    assert blocks["dev"]["data"] == {"api_token": TOKEN}


def test_bad_settings_are_refused_in_one_pass_by_key() -> None:
    pool = {
        "name": "coiled",
        "type": "coiled:push",
        "coiled": {"memory": "lots", "cpu": 0, "vm_types": ["a", "a"], "regoin": "x"},
    }
    problems = config_problems(coiled_config(pool), SECRET_KEYS)
    assert sorted(p.split(": ")[0] for p in problems) == [
        "pushpools:pools[0].coiled.cpu",
        "pushpools:pools[0].coiled.memory",
        "pushpools:pools[0].coiled.regoin",
        "pushpools:pools[0].coiled.vm_types",
    ]
