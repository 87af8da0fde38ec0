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
    """(the stack at `revision`, the stack in the working tree), as JSON plans. A stack
    that exists on one side only is compared with an empty plan; on neither, refused."""
    key = secrets.token_hex(32)
    relative = _stack_file(directory, stack).relative_to(directory)
    commit = _commit(directory, revision)
    new_file = directory / relative
    with tempfile.TemporaryDirectory(prefix="pushpools-rev-") as tmp:
        old_tree = Path(tmp)
        _export(directory, revision, commit, old_tree)
        if not (old_tree / relative).is_file() and not new_file.is_file():
            raise CompareError(
                f"--stack {stack}: no stack file {relative} in the working tree, nor at "
                f"{revision!r}; stacks here: {_stacks_here(new_file.parent)}"
            )
        old = (
            _plan_in(old_tree, old_tree / relative, key, f"revision {revision}")
            if (old_tree / relative).is_file()
            else empty_plan(stack)
        )
    if not new_file.is_file():
        return old, empty_plan(stack)
    return old, _plan_in(directory, new_file, key, "the working tree")


def _stacks_here(folder: Path) -> str:
    names = sorted(
        p.name.removeprefix("Pulumi.").rsplit(".", 1)[0] for p in folder.glob("Pulumi.*.y*ml")
    )
    return ", ".join(names) or "none"


_ALLOWED_REVISIONS = (
    "allowed: a commit, branch or tag of this repository, e.g. origin/main; in CI fetch it first"
)


def _commit(directory: Path, revision: str) -> str:
    """The commit `revision` names. A revision is never an option: one starting with `-`
    is refused, and git is told where its options end."""
    if revision.startswith("-"):
        raise CompareError(
            f"--compare-to {revision!r}: not a revision (none starts with '-'); "
            f"{_ALLOWED_REVISIONS}"
        )
    result = _git(
        directory, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )
    if result.returncode != 0:
        raise CompareError(
            f"--compare-to {revision!r}: no such commit in this repository; {_ALLOWED_REVISIONS}"
        )
    return result.stdout.strip()


def _stack_file(directory: Path, stack: str) -> Path:
    from pushpools_tools.stackfile import stack_file_path

    return stack_file_path(directory, stack)


def _export(directory: Path, revision: str, commit: str, into: Path) -> None:
    archive = into / ".tree.tar"
    # A commit id, never an option.
    result = _git(directory, "archive", "--format=tar", "-o", str(archive), commit, "--")
    if result.returncode != 0:
        raise CompareError(
            f"--compare-to {revision!r}: git cannot export that revision: "
            f"{result.stderr.strip() or 'git archive failed'} ({_ALLOWED_REVISIONS})"
        )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")  # symlinks inside the tree are kept
    archive.unlink()


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - git, with arguments that are never options
            ["git", *args],  # noqa: S607
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CompareError(f"--compare-to: git could not run here: {error}") from None


def _plan_in(tree: Path, stack_file: Path, key: str, where: str) -> dict[str, Any]:
    """This `pushpools plan --json` of the program and library in `tree`."""
    # The tree's `pushpools` (library and `__main__.py`) comes first on the path; the plan
    # tool is the installed `pushpools_tools`, whatever the revision's layout.
    env = {**os.environ, DIGEST_KEY_ENV: key, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "pushpools_tools.cli", "plan", "--stack-file"]
    try:
        result = subprocess.run(  # noqa: S603 - this interpreter, the tree's own CLI
            [*command, str(stack_file), "--json"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=_PLAN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CompareError(
            f"the plan of {stack_file.name} in {where} took over {_PLAN_TIMEOUT} s"
        ) from None
    if result.returncode != 0:
        raise CompareError(
            f"the plan of {stack_file.name} in {where} failed:\n{result.stderr.strip()}"
        )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        raise CompareError(
            f"the plan of {stack_file.name} in {where} printed no JSON plan"
        ) from None
