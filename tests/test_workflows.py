"""The GitHub workflows, checked offline: syntax and expressions (actionlint), security
(zizmor --offline), and the promises docs/gitops.md makes about them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from harness import ENV_BIN, PROJECT_DIR

GITHUB = PROJECT_DIR / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
PULUMI_ACTIONS_V7 = "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d"  # v7.0.0


def _load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True.
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def test_actionlint_finds_nothing() -> None:
    result = _run(str(ENV_BIN / "actionlint"), *map(str, WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_finds_nothing() -> None:
    result = _run(str(ENV_BIN / "zizmor"), "--offline", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_would_catch_an_unpinned_action(tmp_path: Path) -> None:
    """The audit is live: the same tree with one action pinned by tag fails it."""
    copy = tmp_path / ".github"
    shutil.copytree(GITHUB, copy)
    deploy = copy / "workflows" / "deploy.yml"
    deploy.write_text(deploy.read_text().replace(PULUMI_ACTIONS_V7, "pulumi/actions@v7"))
    result = _run(str(ENV_BIN / "zizmor"), "--offline", str(copy))
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout


def _steps() -> list[tuple[Path, str, dict]]:
    found = []
    for path in [*WORKFLOWS, GITHUB / "actions" / "cloud-login" / "action.yml"]:
        document = _load(path)
        jobs = document.get("jobs") or {"composite": document["runs"]}
        found += [(path, job, step) for job, body in jobs.items() for step in body.get("steps", [])]
    return found


def test_every_action_is_pinned_by_commit_sha() -> None:
    for path, job, step in _steps():
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), f"{path.name} {job}: {uses}"


def test_pulumi_runs_through_pulumi_actions_v7() -> None:
    pulumi = [s for _, _, s in _steps() if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi
    assert {s["uses"] for s in pulumi} == {PULUMI_ACTIONS_V7}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_per_job_and_id_token_only_where_a_login_runs(path: Path) -> None:
    document = _load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name} {name}"
        logs_in = any(s.get("uses") == "./.github/actions/cloud-login" for s in job["steps"])
        assert (job["permissions"].get("id-token") == "write") == logs_in, f"{path.name} {name}"
        assert "write-all" not in str(job["permissions"])


def test_the_pull_request_plan_needs_no_credentials() -> None:
    document = _load(GITHUB / "workflows" / "pull-request.yml")
    assert set(document["on"]) == {"pull_request"}  # never pull_request_target
    text = (GITHUB / "workflows" / "pull-request.yml").read_text()
    assert "secrets." not in text
    assert "--compare-to" in text
    assert "<!-- pushpools-offline-plan -->" in text  # the marker that makes it one comment


def test_previews_skip_cleanly_on_forks() -> None:
    job = _load(GITHUB / "workflows" / "preview.yml")["jobs"]["stacks"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]


def test_updates_of_one_stack_never_overlap_and_prod_waits_for_approval() -> None:
    deploy = _load(GITHUB / "workflows" / "deploy.yml")["jobs"]["up"]
    drift = _load(GITHUB / "workflows" / "drift.yml")["jobs"]["drift"]
    for job in (deploy, drift):
        assert job["concurrency"] == {
            "group": "pulumi-stack-${{ matrix.stack }}",
            "cancel-in-progress": False,
        }
    assert deploy["environment"] == "${{ matrix.stack }}"
    assert deploy["strategy"]["max-parallel"] == 1
    assert deploy["strategy"].get("fail-fast", True)  # a failed dev cancels prod


def test_deploy_runs_every_stack_file_from_the_listing_job() -> None:
    jobs = _load(GITHUB / "workflows" / "deploy.yml")["jobs"]
    assert jobs["up"]["needs"] == "stacks"
    assert (
        jobs["up"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.names) }}"
    )
    listing = next(s for s in jobs["stacks"]["steps"] if s.get("id") == "list")
    assert ".venv/bin/python ci/deploy_stacks.py" in listing["run"]
    assert jobs["stacks"]["outputs"]["names"] == "${{ steps.list.outputs.names }}"


def _deploy_stacks(root: Path) -> subprocess.CompletedProcess[str]:
    """ci/deploy_stacks.py as the deploy workflow's listing job runs it, on `root`."""
    return subprocess.run(
        [str(ENV_BIN / "python"), str(PROJECT_DIR / "ci" / "deploy_stacks.py"), str(root)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_shipped_stacks_are_deployed_dev_first() -> None:
    result = _deploy_stacks(PROJECT_DIR)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["dev", "prod"]


def _tree(tmp_path: Path) -> Path:
    for folder in ("stacks", "ci/stacks"):
        shutil.copytree(PROJECT_DIR / folder, tmp_path / folder)
    return tmp_path


def test_a_stack_file_with_no_deploy_environment_is_refused(tmp_path: Path) -> None:
    """A new stack file would otherwise be planned and previewed but never deployed."""
    root = _tree(tmp_path)
    shutil.copy(root / "stacks" / "Pulumi.dev.yaml", root / "stacks" / "Pulumi.staging.yaml")
    result = _deploy_stacks(root)
    assert result.returncode == 1
    assert result.stdout == ""  # no matrix: nothing is deployed
    assert "refusing to deploy" in result.stderr
    assert "stacks/Pulumi.staging.yaml: no deploy environment 'staging'" in result.stderr
    assert "pushpools-ci:github.environments" in result.stderr


def test_a_stack_file_with_a_deploy_environment_is_deployed_in_its_order(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    shutil.copy(root / "stacks" / "Pulumi.dev.yaml", root / "stacks" / "Pulumi.staging.yaml")
    ci_stack = root / "ci" / "stacks" / "Pulumi.github.yaml"
    ci_stack.write_text(
        ci_stack.read_text().replace(
            "environments: [dev, prod]", "environments: [dev, staging, prod]"
        )
    )
    result = _deploy_stacks(root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["dev", "staging", "prod"]


def test_drift_runs_a_refreshing_preview_that_expects_no_changes() -> None:
    steps = _load(GITHUB / "workflows" / "drift.yml")["jobs"]["drift"]["steps"]
    preview = next(s for s in steps if s.get("id") == "preview")
    assert preview["with"]["refresh"] is True
    assert preview["with"]["expect-no-changes"] is True
    assert "schedule" in _load(GITHUB / "workflows" / "drift.yml")["on"]
