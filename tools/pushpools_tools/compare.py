"""A stack at a git revision, planned offline, for `pushpools plan --compare-to`.

"The stack at a revision" is the stack file AND the program at that revision: a change
to a component changes what a stack declares as surely as a change to its file. So the
revision's whole tree is exported (`git archive`) into a temporary folder and its program
and library are planned there by this checkout's `pushpools plan --json`, on this
environment's packages (one plan tool for both sides, so only the stack's own changes
show; a change of uv.lock is not replayed; `pulumi preview` is the final word). Both sides
are planned with one throwaway digest key, so that secrets that changed show as "changed",
and nothing else.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from pushpools_tools.plan import DIGEST_KEY_ENV

_GIT_TIMEOUT = 120
_PLAN_TIMEOUT = 600


class CompareError(Exception):
    """The revision or the stack cannot be planned; the message says why."""


def empty_plan(stack: str) -> dict[str, Any]:
    """The plan of a stack that does not exist (at a revision, or yet)."""
    return {"stack": stack, "resources": [], "outputs": {}}


def plans_to_compare(directory: Path, stack: str, revision: str) -> tuple[dict, dict]:
    """(the stack at `revision`, the stack in the working tree), as JSON plans."""
    key = secrets.token_hex(32)
    relative = _stack_file(directory, stack).relative_to(directory)
    with tempfile.TemporaryDirectory(prefix="pushpools-rev-") as tmp:
        old_tree = Path(tmp)
        _export(directory, revision, old_tree)
        old = (
            _plan_in(old_tree, old_tree / relative, key, f"revision {revision}")
            if (old_tree / relative).is_file()
            else empty_plan(stack)
        )
    new_file = directory / relative
    if not new_file.is_file():
        return old, empty_plan(stack)
    return old, _plan_in(directory, new_file, key, "the working tree")


def _stack_file(directory: Path, stack: str) -> Path:
    from pushpools_tools.stackfile import stack_file_path

    return stack_file_path(directory, stack)


def _export(directory: Path, revision: str, into: Path) -> None:
    archive = into / ".tree.tar"
    result = subprocess.run(  # noqa: S603 - git, with a revision passed as one argument
        ["git", "archive", "--format=tar", "-o", str(archive), revision, "--"],  # noqa: S607
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=_GIT_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise CompareError(
            f"--compare-to {revision!r}: git cannot export that revision: "
            f"{result.stderr.strip() or 'git archive failed'} (allowed: a commit, branch or "
            "tag of this repository, e.g. origin/main; in CI fetch it first)"
        )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")  # symlinks inside the tree are kept
    archive.unlink()


def _plan_in(tree: Path, stack_file: Path, key: str, where: str) -> dict[str, Any]:
    """This `pushpools plan --json` of the program and library in `tree`."""
    # The tree's `pushpools` (library and `__main__.py`) comes first on the path; the plan
    # tool is the installed `pushpools_tools`, whatever the revision's layout.
    env = {**os.environ, DIGEST_KEY_ENV: key, "PYTHONPATH": str(tree)}
    result = subprocess.run(  # noqa: S603 - this interpreter, the tree's own CLI
        [
            sys.executable,
            "-m",
            "pushpools_tools.cli",
            "plan",
            "--stack-file",
            str(stack_file),
            "--json",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=_PLAN_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise CompareError(
            f"the plan of {stack_file.name} in {where} failed:\n{result.stderr.strip()}"
        )
    return json.loads(result.stdout)
