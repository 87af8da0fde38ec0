"""Stack files that import Pulumi ESC environments: planned offline, the values the
environments provide taken as unknown secrets, and said so."""

from __future__ import annotations

import json
from pathlib import Path

from harness import plan_cli

CLOUD_URL = (
    "https://api.prefect.cloud/api/accounts/0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
    "/workspaces/6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b"
)
POOLS = (
    "  pushpools:prefect:\n"
    f"    api_url: {CLOUD_URL}\n"
    "  pushpools:pools:\n"
    "    - {name: ml, type: cloud-run:push, gcp: {project: acme-data-dev}}\n"
    "    - {name: gpu, type: modal:push,"
    " modal: {token_id_key: modalTokenId, token_secret_key: modalTokenSecret}}\n"
)


def _stack(tmp_path: Path, head: str) -> Path:
    path = tmp_path / "Pulumi.esc.yaml"
    path.write_text(head + "config:\n" + POOLS)
    return path


def test_without_an_environment_the_keys_are_missing(tmp_path: Path) -> None:
    result = plan_cli("--stack-file", str(_stack(tmp_path, "")))
    assert result.returncode == 2
    assert "pushpools:modalTokenId: required by pushpools:pools[1].modal.token_id_key" in (
        result.stderr
    )


def test_keys_an_environment_provides_are_unknown_secrets_named_in_the_plan(
    tmp_path: Path,
) -> None:
    stack = _stack(tmp_path, "environment:\n  - acme/prefect-prod\n")
    text = plan_cli("--stack-file", str(stack))
    assert text.returncode == 0, text.stderr
    assert (
        "Pulumi ESC environments imported: acme/prefect-prod. Offline their values are "
        "unknown; taken as secrets they provide: pushpools:prefectApiKey, "
        "pushpools:modalTokenId, pushpools:modalTokenSecret." in text.stdout
    )
    assert f"Registration in Prefect: ON, at {CLOUD_URL}" in text.stdout
    document = json.loads(plan_cli("--stack-file", str(stack), "--json").stdout)
    assert document["environments"] == {
        "imports": ["acme/prefect-prod"],
        "secrets_assumed_from_them": [
            "pushpools:prefectApiKey",
            "pushpools:modalTokenId",
            "pushpools:modalTokenSecret",
        ],
    }
    blocks = [r for r in document["resources"] if r["type"].endswith("prefect:Block")]
    assert blocks
    assert all(b["inputs"]["data"] == "[secret]" for b in blocks)


def test_a_key_set_in_the_stack_file_wins_over_the_environment(tmp_path: Path) -> None:
    stack = _stack(tmp_path, "environment: [acme/modal]\n")
    stack.write_text(stack.read_text() + "  pushpools:prefectApiKey:\n    secure: v1:AAAABBBB\n")
    document = json.loads(plan_cli("--stack-file", str(stack), "--json").stdout)
    assert "pushpools:prefectApiKey" not in document["environments"]["secrets_assumed_from_them"]


def test_a_malformed_environment_list_is_refused_naming_it(tmp_path: Path) -> None:
    result = plan_cli("--stack-file", str(_stack(tmp_path, "environment: {imports: 3}\n")))
    assert result.returncode == 2
    assert "`environment`: {'imports': 3} is not a list of ESC environment names" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stored_credentials_default_key_is_taken_from_the_environment(tmp_path: Path) -> None:
    """A worker pool that stores the auth string (`prefect_api_auth_string_secret: {}`)
    reads the default key `prefectAuthString`; an environment that provides it is enough."""
    stack = tmp_path / "Pulumi.esc.yaml"
    stack.write_text(
        "environment: [acme/prefect-selfhosted]\n"
        "config:\n"
        "  pushpools:prefect:\n"
        "    api_url: https://prefect.internal.example.com/api\n"
        "  pushpools:pools:\n"
        "    - name: ecs\n"
        "      type: ecs\n"
        "      aws: {region: eu-west-1, prefect_api_auth_string_secret: {}}\n"
    )
    document = json.loads(plan_cli("--stack-file", str(stack), "--json").stdout or "{}")
    assert "pushpools:prefectAuthString" in document["environments"]["secrets_assumed_from_them"]
