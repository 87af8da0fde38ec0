"""The Modal pool: no cloud resources; the token from secret config, as a secret block."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pushpools_tools.engine import ProgramRun, is_secret, reveal
from pushpools_tools.plan import plan_document, render_text
from tests.harness import config_problems, run_config

TOKEN_ID = "ak-Jq3mW8xY2zLp5RtV"
TOKEN_SECRET = "as-Nf7Kd2Hs9Qw4Ex6Bc1Gv"
SECRET_KEYS = ["pushpools:modalTokenId", "pushpools:modalTokenSecret"]


def modal_config(*pools: dict[str, Any], **tokens: str) -> dict[str, Any]:
    values = {"modalTokenId": TOKEN_ID, "modalTokenSecret": TOKEN_SECRET} | tokens
    return {"pushpools:pools": list(pools), **{f"pushpools:{k}": v for k, v in values.items()}}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    pool = {"name": "modal", "type": "modal:push", "modal": {"env": {"EXECUTION_ENV": "dev"}}}
    return run_config(modal_config(pool), SECRET_KEYS)


def test_a_modal_pool_declares_no_cloud_resources(run: ProgramRun) -> None:
    assert [(r.type, r.custom) for r in run.resources] == [("pushpools:modal:ModalPushPool", False)]


def test_the_block_holds_the_token_from_secret_config(run: ProgramRun) -> None:
    assert is_secret(run.outputs["credentials_blocks"])
    assert reveal(run.outputs["credentials_blocks"]) == {
        "modal": {
            "type_slug": "modal-credentials",
            "name": "modal-modal-credentials",
            "data": {"token_id": TOKEN_ID, "token_secret": TOKEN_SECRET},
        }
    }


def test_the_pool_is_wired_to_its_block_and_environment(run: ProgramRun) -> None:
    assert run.outputs["pools"]["modal"] == {
        "type": "modal:push",
        "work_pool_name": "modal",
        "credentials_block": {
            "type_slug": "modal-credentials",
            "name": "modal-modal-credentials",
            "variable": "modal_credentials",
        },
        "template_defaults": {"env": {"EXECUTION_ENV": "dev"}},
        "image_namespace": None,
    }


def test_the_token_appears_in_no_plain_output(run: ProgramRun) -> None:
    for text in (
        json.dumps(run.outputs["pools"]),
        json.dumps(plan_document(run)),
        render_text(run),
    ):
        assert TOKEN_ID not in text
        assert TOKEN_SECRET not in text


def test_a_modal_pool_needs_no_settings_section() -> None:
    run = run_config(modal_config({"name": "bare", "type": "modal:push"}), SECRET_KEYS)
    assert run.outputs["pools"]["bare"]["template_defaults"] == {}
    assert reveal(run.outputs["credentials_blocks"])["bare"]["data"]["token_id"] == TOKEN_ID


def test_pools_may_read_their_tokens_from_keys_they_name() -> None:
    prod = {
        "name": "prod-modal",
        "type": "modal:push",
        "modal": {"token_id_key": "modalProdTokenId", "token_secret_key": "modalProdTokenSecret"},
    }
    config = modal_config({"name": "dev-modal", "type": "modal:push"}, prod)
    config |= {"pushpools:modalProdTokenId": "ak-prod", "pushpools:modalProdTokenSecret": "as-prod"}
    secret_keys = [*SECRET_KEYS, "pushpools:modalProdTokenId", "pushpools:modalProdTokenSecret"]
    blocks = reveal(run_config(config, secret_keys).outputs["credentials_blocks"])
    assert blocks["prod-modal"]["data"] == {"token_id": "ak-prod", "token_secret": "as-prod"}
    assert blocks["dev-modal"]["data"] == {"token_id": TOKEN_ID, "token_secret": TOKEN_SECRET}


def test_a_missing_token_is_a_config_error_that_says_how_to_set_it() -> None:
    config = modal_config({"name": "modal", "type": "modal:push"})
    del config["pushpools:modalTokenSecret"]
    problems = config_problems(config, ["pushpools:modalTokenId"])
    assert problems == [
        "pushpools:modalTokenSecret: required by pushpools:pools[0].modal.token_secret_key, "
        "but not set; set it with `pulumi config set --secret pushpools:modalTokenSecret <value>`"
    ]


def test_a_token_stored_in_plain_text_is_refused() -> None:
    config = modal_config({"name": "modal", "type": "modal:push"})
    problems = config_problems(config, ["pushpools:modalTokenId"])
    assert len(problems) == 1
    assert problems[0].startswith(
        "pushpools:modalTokenSecret: holds a credential (named by "
        "pushpools:pools[0].modal.token_secret_key) but is stored in plain text; set it with "
        "`pulumi config set --secret"
    )
    assert TOKEN_SECRET not in problems[0]


def test_keys_no_pool_names_are_still_unknown() -> None:
    config = modal_config({"name": "modal", "type": "modal:push"}, modalTokn="x")
    problems = config_problems(config, [*SECRET_KEYS, "pushpools:modalTokn"])
    assert len(problems) == 1
    assert problems[0].startswith("pushpools:modalTokn: unknown key; allowed keys: ")
    assert "modalTokenSecret" in problems[0]


def test_one_key_for_both_token_parts_is_refused() -> None:
    pool = {"name": "modal", "type": "modal:push", "modal": {"token_secret_key": "modalTokenId"}}
    problems = config_problems(modal_config(pool), SECRET_KEYS)
    assert problems == [
        "pushpools:pools[0].modal: token_id_key and token_secret_key are both 'modalTokenId'; "
        "the token ID and secret need one key each"
    ]


def test_a_key_name_pulumi_cannot_hold_is_refused() -> None:
    pool = {"name": "modal", "type": "modal:push", "modal": {"token_id_key": "modal:token"}}
    problems = config_problems(modal_config(pool), SECRET_KEYS)
    assert len(problems) == 1
    assert problems[0].startswith(
        "pushpools:pools[0].modal.token_id_key: 'modal:token' is not a usable stack-config key"
    )


def test_a_bad_environment_variable_name_is_refused() -> None:
    pool = {"name": "modal", "type": "modal:push", "modal": {"env": {"1BAD": "x"}}}
    problems = config_problems(modal_config(pool), SECRET_KEYS)
    assert len(problems) == 1
    assert problems[0].startswith(
        "pushpools:pools[0].modal.env: '1BAD' is not an environment variable name"
    )
