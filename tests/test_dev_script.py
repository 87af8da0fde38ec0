"""`./dev`, the one entry point README gives a newcomer: every task it lists runs as
written, help is not an error, and an unknown task is."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.harness import PROJECT_DIR


def dev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROJECT_DIR / "dev"), *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("spelling", ["help", "--help", "-h"])
def test_help_lists_every_task_and_succeeds(spelling: str) -> None:
    result = dev(spelling)
    assert result.returncode == 0, result.stderr
    for task in ("plan", "migrate", "test", "lint", "bench", "setup"):
        assert f"./dev {task}" in result.stdout


def test_an_unknown_task_is_an_error() -> None:
    assert dev("deploy").returncode == 2


def test_the_migrate_command_the_docs_show_runs() -> None:
    docs = (PROJECT_DIR / "docs" / "migration.md").read_text()
    assert re.search(r"^\./dev migrate --stack dev --dry-run", docs, re.MULTILINE)
    result = dev("migrate", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: pushpools migrate" in result.stdout
