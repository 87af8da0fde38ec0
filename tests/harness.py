"""Running the real stack program under the offline engine, for tests.

Tests build a stack config in Python (as it would stand in a stack file), run the
project's own `__main__.py` on the same engine `pushpools plan` uses, and assert on
what was declared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pushpools.components.loader import ConfigError
from pushpools_tools.engine import FaithfulMonitor, ProgramRun, Registration, reveal
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The environment under test. `./dev test` runs the suite in more than .venv (the lowest
# versions pyproject.toml allows, each Python it allows): the commands tests start come
# from the environment running them, never from .venv by name.
ENV_BIN = Path(sys.executable).parent
PYTHON = ENV_BIN / "python"
PUSHPOOLS = ENV_BIN / "pushpools"


def settings_for(
    config: dict[str, Any], secret_keys: list[str] | None = None, stack: str = "test"
) -> StackSettings:
    """`config` maps `namespace:key` to values as they stand in a stack file."""
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    return StackSettings("pushpools", stack, text, list(secret_keys or []))


def run_config(config: dict[str, Any], secret_keys: list[str] | None = None) -> ProgramRun:
    return run_stack(PROJECT_DIR, settings_for(config, secret_keys))


def run_pools(*pools: dict[str, Any], labels: dict[str, str] | None = None) -> ProgramRun:
    config: dict[str, Any] = {"pushpools:pools": list(pools)}
    if labels is not None:
        config["pushpools:labels"] = labels
    return run_config(config)


def config_problems(config: dict[str, Any], secret_keys: list[str] | None = None) -> list[str]:
    """The problems a bad config is refused with; asserts that nothing was declared."""
    record = ProgramRun(project="pushpools", stack="test")
    with pytest.raises(ConfigError) as caught:
        run_stack(PROJECT_DIR, settings_for(config, secret_keys), record=record)
    declared = [r for r in record.resources if r.type != "pulumi:pulumi:Stack"]
    assert declared == [], f"resources were declared before the config was refused: {declared}"
    return caught.value.problems


def inputs(resource: Registration) -> dict[str, Any]:
    """A resource's inputs with secret markers removed (assert secrecy separately)."""
    return reveal(resource.inputs)


def outputs(resource: Registration) -> dict[str, Any]:
    return reveal(resource.outputs)


def plan_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`pushpools plan ...` as a user runs it, from the project folder."""
    return subprocess.run(
        [str(PUSHPOOLS), "plan", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_LIST_IMPORTS = """
import contextlib, io, json, sys
from pushpools_tools.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(["plan", "--stack-file", sys.argv[1]])
top = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"status": status, "top": top, "all": sorted(sys.modules)}))
"""


def modules_imported_by_plan(stack_file: Path) -> dict[str, Any]:
    """What a fresh process imports to plan a stack: {"status", "top", "all"}."""
    result = subprocess.run(
        [sys.executable, "-c", _LIST_IMPORTS, str(stack_file)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def retain_on_delete_requests(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Logical name -> the `retainOnDelete` option each registration asks the engine for,
    for the runs of this test."""
    seen: dict[str, bool] = {}
    register = FaithfulMonitor.RegisterResource

    def recording(monitor: FaithfulMonitor, request: Any) -> Any:
        seen[request.name] = bool(request.retainOnDelete)
        return register(monitor, request)

    monkeypatch.setattr(FaithfulMonitor, "RegisterResource", recording)
    return seen
