"""Users' own unit tests: `examples/python/test_pools.py` is the example docs/library.md
tells users to copy. It runs here as a user runs it, with pytest in a fresh process, on
Pulumi's plain mocks (each resource's state is its inputs, nothing computed), and every
test in it passes."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from harness import PROJECT_DIR

EXAMPLE = PROJECT_DIR / "examples" / "python" / "test_pools.py"


def test_the_example_uses_only_pulumis_own_mocks() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    imported = {
        alias.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import)
        for alias in n.names
    }
    imported |= {
        (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
    }
    # No pushpools_tools (the offline engine and its realistic provider mocks), no harness.
    assert imported <= {"asyncio", "collections", "pulumi", "pytest", "pushpools"}, imported
    assert "pulumi.runtime.set_mocks(" in EXAMPLE.read_text()


def test_the_example_passes_as_a_user_runs_it() -> None:
    tests = [
        node.name
        for node in ast.parse(EXAMPLE.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE.name],
        cwd=EXAMPLE.parent,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(rf"\b{len(tests)} passed\b", result.stdout), result.stdout[-500:]
