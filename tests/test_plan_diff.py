"""`pushpools plan` comparisons: what a reviewer sees of real changes to a stack."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness import PROJECT_DIR, PYTHON, plan_cli, run_config

from pushpools_tools.diff import diff_plans, render_markdown, render_text
from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document


def _pool(name: str, **gcp: object) -> dict:
    return {"name": name, "type": "cloud-run:push", "gcp": {"project": "acme-data-dev", **gcp}}


def _plan(*pools: dict) -> dict:
    return plan_document(run_config({"pushpools:pools": list(pools)}))


@pytest.fixture(autouse=True)
def _digest_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `--compare-to` does: both plans made with one throwaway key.
    monkeypatch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")


@pytest.fixture(scope="module")
def base() -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")
        return _plan(_pool("ml"), _pool("bi", project="acme-data-bi"))


def _by_name(diff) -> dict:
    return {c.name: c for c in diff.changes}


def test_the_same_stack_shows_no_changes(base) -> None:
    diff = diff_plans(base, _plan(_pool("ml"), _pool("bi", project="acme-data-bi")))
    assert diff.changes == []
    assert "no changes" in render_text(diff)


def test_a_role_added_is_a_widening_grant_listed_first(base) -> None:
    new = _plan(
        _pool("ml", runtime_roles=["roles/bigquery.jobUser"]),
        _pool("bi", project="acme-data-bi"),
    )
    diff = diff_plans(base, new)
    added = [c for c in diff.changes if c.action == "add"]
    assert [c.type for c in added] == ["gcp:projects/iAMMember:IAMMember"]
    assert added[0].access == [
        "widens: new grant roles/bigquery.jobUser to "
        "serviceAccount:ml-jobs@acme-data-dev.iam.gserviceaccount.com "
        "on acme-data-dev"
    ]
    markdown = render_markdown(diff)
    assert markdown.index("**Access (grants and policies)**") < markdown.index("**Resources**")
    assert "widens: new grant roles/bigquery.jobUser" in markdown


def test_a_rotated_key_is_replaced_and_its_secret_only_changed(base) -> None:
    new = _plan(_pool("ml", key_generation=2), _pool("bi", project="acme-data-bi"))
    diff = diff_plans(base, new)
    key = next(c for c in diff.changes if c.type == "gcp:serviceaccount/key:Key")
    assert key.action == "replace"
    assert [(i.key, i.forces_replacement) for i in key.inputs] == [("keepers", True)]
    text = render_text(diff) + render_markdown(diff)
    assert "PRIVATE KEY" not in text
    assert "[secret " not in text  # not even the digest


def test_a_secret_that_changed_says_changed_and_nothing_else(base) -> None:
    old = {**base, "resources": [dict(r) for r in base["resources"]]}
    new = json.loads(json.dumps(old))
    block = {
        "type": "pulumi-python:dynamic/prefect:Block",
        "name": "ml-block",
        "urn": "urn:pulumi:test::pushpools::pulumi-python:dynamic/prefect:Block::ml-block",
        "parent": None,
        "inputs": {"name": "ml", "data": "[secret 0123456789abcdef]"},
    }
    old["resources"].append(block)
    new["resources"].append(
        {**block, "inputs": {"name": "ml", "data": "[secret fedcba9876543210]"}}
    )
    diff = diff_plans(old, new)
    [change] = diff.changes
    assert (change.action, [i.key for i in change.inputs]) == ("update", ["data"])
    text = render_text(diff)
    assert "data: [secret] changed" in text
    assert "0123456789abcdef" not in text
    assert "fedcba9876543210" not in text


def test_a_renamed_pool_is_shown_as_replacement_of_its_resources(base) -> None:
    new = _plan(_pool("ml-v2"), _pool("bi", project="acme-data-bi"))
    diff = diff_plans(base, new)
    assert diff.renamed_pools == {"ml": "ml-v2"}
    assert {c.action for c in diff.changes} == {"replace"}
    changes = _by_name(diff)
    account = changes["ml-v2-prefect-sa"]
    assert account.note.startswith("renamed from ml-prefect-sa")
    assert "pool ml renamed to ml-v2: its resources are replaced" in render_text(diff)
    assert not any(c.action == "remove" for c in diff.changes)


def test_a_removed_pool_lists_every_resource_and_narrows_its_grants(base) -> None:
    diff = diff_plans(base, _plan(_pool("ml")))
    removed = {c.name for c in diff.changes if c.action == "remove"}
    bi = {r["name"] for r in base["resources"] if r["name"].startswith("bi-")}
    assert removed == bi
    narrows = [line for c in diff.access_changes for line in c.access]
    assert narrows
    assert all(line.startswith("narrows: removed grant") for line in narrows)
    assert {c.action for c in diff.changes} == {"remove"}


def test_policy_statements_widen_and_narrow_one_by_one() -> None:
    def policy(*actions: str) -> dict:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": list(actions),
                    "Resource": "arn:aws:ecs:*:1:cluster/x",
                }
            ],
        }
        return {
            "stack": "s",
            "resources": [
                {
                    "type": "aws:iam/policy:Policy",
                    "name": "p",
                    "urn": "urn:p",
                    "parent": None,
                    "inputs": {"name": "p", "policy": json.dumps(document)},
                }
            ],
        }

    diff = diff_plans(policy("ecs:RunTask", "ecs:StopTask"), policy("ecs:RunTask", "ecs:*"))
    [change] = diff.changes
    assert change.action == "update"
    assert change.access == [
        'widens: Allow ecs:* on "arn:aws:ecs:*:1:cluster/x"',
        'narrows: Allow ecs:StopTask on "arn:aws:ecs:*:1:cluster/x"',
    ]


def _git(tree: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True)


def test_compare_to_a_revision_plans_the_stack_file_and_the_program_there(tmp_path) -> None:
    """A copy of the project as a repository: commit, change the stack file, compare."""
    tree = tmp_path / "project"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), "HEAD"],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    try:
        for path in ("pushpools", "components", "__main__.py"):  # this change's code
            subprocess.run(["cp", "-rT", str(PROJECT_DIR / path), str(tree / path)], check=True)
        (tree / "stacks" / "Pulumi.review.yaml").write_text(
            "config:\n  pushpools:pools:\n"
            "    - {name: ml, type: cloud-run:push, gcp: {project: acme-data-dev}}\n"
        )
        _git(tree, "add", "-A")
        _git(tree, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "review")
        (tree / "stacks" / "Pulumi.review.yaml").write_text(
            "config:\n  pushpools:pools:\n"
            "    - {name: ml, type: cloud-run:push, gcp: {project: acme-data-dev,"
            " key_generation: 2}}\n"
        )
        result = subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pushpools_tools.cli",
                "plan",
                "--stack",
                "review",
                "--compare-to",
                "HEAD",
                "--markdown",
                "--diagram",
            ],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
            check=False,
        )
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)],
            cwd=PROJECT_DIR,
            check=False,
            capture_output=True,
        )
    assert result.returncode == 0, result.stderr
    assert "### Stack `review`: 1 to replace" in result.stdout
    assert "`keepers`" in result.stdout
    assert "(forces replacement)" in result.stdout
    assert "```mermaid" in result.stdout
    assert "PRIVATE KEY" not in result.stdout


def test_a_bad_revision_is_refused_naming_it() -> None:
    result = plan_cli("--stack", "dev", "--compare-to", "no-such-revision-xyz")
    assert result.returncode == 2
    assert "--compare-to 'no-such-revision-xyz': no such commit in this repository" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_diff_of_two_json_files(tmp_path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"stack": "dev", "resources": []}))
    new.write_text(plan_cli("--stack", "dev", "--json").stdout)
    result = plan_cli("--diff", str(old), str(new), "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### Stack `dev`: ")
    assert "+ add gcp:serviceaccount/account:Account dev-cloud-run-prefect-sa" in result.stdout
    bad = plan_cli("--diff", str(old), str(tmp_path / "missing.json"))
    assert bad.returncode == 2
    assert f"--diff {tmp_path / 'missing.json'}: no such file" in bad.stderr


def test_the_diagram_shows_every_resource_and_every_recorded_dependency() -> None:
    from pushpools_tools.diagram import critical_paths_markdown, mermaid

    document = json.loads(plan_cli("--stack", "dev", "--json").stdout)
    diagram = mermaid(document)
    ids = {}
    for line in diagram.splitlines():
        if '["' in line and ":::" in line:
            node_id, rest = line.strip().split('["', 1)
            ids[rest.split("<br/>")[0]] = node_id
    by_urn = {r["urn"]: r for r in document["resources"]}
    creating = {
        r["name"]
        for r in document["resources"]
        if not r["type"].startswith(("pushpools:", "pulumi:providers:", "pulumi:pulumi:"))
    }
    assert set(ids) == creating
    edges = set()
    for r in document["resources"]:
        for dep in r["dependencies"]:
            if r["name"] in ids and by_urn[dep]["name"] in ids:
                edges.add((ids[by_urn[dep]["name"]], ids[r["name"]]))
    assert edges
    for first, then in edges:
        assert f"{first} --> {then}" in diagram or f"{first} ==> {then}" in diagram
    # The VPC is created before its subnets, on the ECS pool's critical path.
    assert f"{ids['dev-ecs-vpc']} ==> {ids['dev-ecs-internet-gateway']}" in diagram
    assert "| dev-ecs | 22 | 4 | `dev-ecs-vpc` → " in critical_paths_markdown(document)


def test_a_new_azure_custom_role_shows_its_actions_and_built_in_roles_their_names() -> None:
    from datetime import timedelta

    from pushpools.components.azure.settings import today_utc

    def plan(role: str) -> dict:
        pool = {
            "name": "aci",
            "type": "azure-container-instance:push",
            "azure": {
                "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
                "role": role,
            },
        }
        return plan_document(run_config({"pushpools:pools": [pool]}))

    text = render_text(diff_plans(plan("contributor"), plan("least-privilege")))
    assert "to None" not in text
    assert "new custom role 'Prefect ACI runner aci" in text
    assert "allows Microsoft." in text
    assert "Microsoft.ContainerInstance/containerGroups/" in text
    assert "changes: roleDefinitionId Contributor (" in text


def test_output_changes_show_when_no_resource_changes() -> None:
    """With registration off, a Managed pool's packages live only in the stack outputs that
    a team registers by hand: changing them is a change."""

    def plan(packages: list[str]) -> dict:
        pool = {"name": "quick", "type": "prefect:managed", "managed": {"pip_packages": packages}}
        return plan_document(run_config({"pushpools:pools": [pool]}))

    text = render_text(diff_plans(plan(["pandas"]), plan(["pandas", "httpx"])))
    assert "no changes" not in text
    assert "no resource changes; " in text
    assert "pools.quick" in text
    assert "httpx" in text
    assert render_text(diff_plans(plan(["pandas"]), plan(["pandas"]))).startswith(
        "stack test: no changes"
    )
