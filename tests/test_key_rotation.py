"""Where a key remains, rotating it is a one-line change of the stack file.

In the prod stack, bumping one `key_generation` / `secret_generation` line replaces that
pool's key, and its credentials block gets the new one; nothing else changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pushpools_tools.engine import reveal
from pushpools_tools.plan import plan_document, run_stack
from pushpools_tools.stackfile import load_stack
from tests.harness import PROJECT_DIR

PROD = PROJECT_DIR / "stacks" / "Pulumi.prod.yaml"


def _plan(stack_file: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    run = run_stack(PROJECT_DIR, load_stack(PROJECT_DIR, stack_file, stack="prod"))
    document = plan_document(run)
    resources = {(r["type"], r["name"]): r["inputs"] for r in document["resources"]}
    return resources, reveal(run.outputs["credentials_blocks"])


@pytest.fixture(scope="module")
def before() -> tuple[dict[str, Any], dict[str, Any]]:
    return _plan(PROD)


def _bump(tmp_path: Path, pool: str, setting: str) -> Path:
    lines = PROD.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {pool}")
    index = next(i for i in range(start, len(lines)) if lines[i].strip() == f"{setting}: 1")
    lines[index] = lines[index].replace(f"{setting}: 1", f"{setting}: 2")
    bumped = tmp_path / "Pulumi.prod.yaml"
    bumped.write_text("".join(lines))
    return bumped


@pytest.mark.parametrize(
    ("pool", "setting", "old_key", "new_key"),
    [
        (
            "prod-ecs",
            "key_generation",
            ("aws:iam/accessKey:AccessKey", "prod-ecs-access-key-1"),
            ("aws:iam/accessKey:AccessKey", "prod-ecs-access-key-2"),
        ),
        (
            "prod-cloud-run",
            "key_generation",
            ("gcp:serviceaccount/key:Key", "prod-cloud-run-key"),
            ("gcp:serviceaccount/key:Key", "prod-cloud-run-key"),
        ),
        (
            "prod-aci",
            "secret_generation",
            ("azuread:index/applicationPassword:ApplicationPassword", "prod-aci-client-secret"),
            ("azuread:index/applicationPassword:ApplicationPassword", "prod-aci-client-secret"),
        ),
    ],
)
def test_one_line_rotates_one_pools_key_and_its_block(
    before: tuple[dict[str, Any], dict[str, Any]],
    tmp_path: Path,
    pool: str,
    setting: str,
    old_key: tuple[str, str],
    new_key: tuple[str, str],
) -> None:
    bumped = _bump(tmp_path, pool, setting)
    changed_lines = [
        (a, b)
        for a, b in zip(PROD.read_text().splitlines(), bumped.read_text().splitlines(), strict=True)
        if a != b
    ]
    assert len(changed_lines) == 1
    resources_before, blocks_before = before
    resources_after, blocks_after = _plan(bumped)
    changed = {
        key
        for key in resources_before.keys() | resources_after.keys()
        if resources_before.get(key) != resources_after.get(key)
    }
    assert changed == {old_key, new_key}
    # The pool's block gets the new key; the other pools' blocks are untouched.
    assert blocks_after[pool]["data"] != blocks_before[pool]["data"]
    for other in blocks_before.keys() - {pool}:
        assert blocks_after[other] == blocks_before[other]
