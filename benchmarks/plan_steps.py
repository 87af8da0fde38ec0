"""Where a plan's own work goes: its instructions counted step by step, for one stack.

Each step is a process that does what the one before it did and one thing more, then
exits as the floor does; the difference between two steps is what that thing costs,
counted by callgrind as `instructions.py` counts (PYTHONHASHSEED=0, bytecode cached, so
a step repeats to within a millionth). The first step is the floor: `pulumi`, `pydantic`
and the provider modules the stack's plan loads.

    .venv/bin/python benchmarks/plan_steps.py                          # the GCP-only stack
    .venv/bin/python benchmarks/plan_steps.py --stack stacks/Pulumi.dev.yaml
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from instructions import instructions
from run import CHILD_ENV, ROOT, modules_listed_by, provider_modules

# The modules of pushpools a plan imports, in the order it imports them.
_PUSHPOOLS_MODULES = """
import contextlib, io, json, sys
from pushpools_tools.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["plan", "--stack-file", sys.argv[1]]) == 0
print(json.dumps([n for n in sys.modules if n.split(".")[0] in ("pushpools", "pushpools_tools")]))
"""

# pydantic's first model looks for plugins in the entry points of every installed
# distribution (pydantic/plugin/_loader.py), once per process.
_FIRST_MODEL = """
class _First(BaseModel):
    value: int = Field(default=0)
"""

_READ = """
from pathlib import Path
from pushpools_tools.stackfile import load_stack, project_dir
settings = load_stack(project_dir(), Path({stack!r}))
"""

# The stack program's config check alone, run on the offline engine as the plan runs it.
_CHECK = """
from pushpools.components.loader import load_stack as check
from pushpools_tools.engine import run_program
run_program(check, project=settings.project, stack=settings.stack, config=settings.config,
            secret_keys=settings.secret_keys)
"""

_PLAN = """
import sys
from pushpools_tools.cli import main
sys.exit(main(["plan", "--stack-file", {stack!r}]))
"""


def pushpools_modules(stack: Path) -> list[str]:
    return modules_listed_by(_PUSHPOOLS_MODULES, stack)


def steps(stack: Path) -> list[tuple[str, str]]:
    """(what the step adds, the whole program of the process that stops after it)."""
    floor = "import pulumi\nimport pydantic\n" + "".join(
        f"import {m}\n" for m in provider_modules(stack)
    )
    ours = pushpools_modules(stack)
    settings_models = [m for m in ours if m.endswith(".settings")]
    added = [
        ("floor", floor),
        (
            "pydantic: `from pydantic import BaseModel, Field`",
            "from pydantic import BaseModel, Field\n",
        ),
        (
            "pydantic: a first model (it looks for plugins in every installed distribution)",
            _FIRST_MODEL,
        ),
        ("the stack config's models: import and build", "import pushpools.components.config\n"),
        (
            "the settings models of the stack's clouds: import and build",
            "".join(f"import {m}\n" for m in settings_models),
        ),
        ("reading the stack file as Pulumi does", _READ.format(stack=str(stack))),
        ("the rest of pushpools' modules: import", "".join(f"import {m}\n" for m in ours)),
        ("the config check, on the offline engine", _CHECK),
    ]
    programs, code = [], ""
    for what, more in added:
        code += more
        programs.append((what, code))
    programs.append(
        ("the plan: resources declared, outputs, rendering", _PLAN.format(stack=str(stack)))
    )
    return programs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", type=Path, default=ROOT / "benchmarks/stacks/gcp-only.yaml")
    args = parser.parse_args()
    stack = args.stack.resolve()
    programs = steps(stack)
    commands = [[sys.executable, "-c", code] for _, code in programs]
    for argv in commands:  # the first run writes bytecode; never count that
        subprocess.run(argv, cwd=ROOT, env=CHILD_ENV, capture_output=True, check=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(instructions, commands))
    floor = counts[0]
    print(f"| step ({stack.relative_to(ROOT)}) | added | share of the floor |")
    print("|---|---:|---:|")
    print(f"| floor | {floor / 1e6:,.0f} | 100% |")
    for (what, _), before, after in zip(programs[1:], counts[:-1], counts[1:], strict=True):
        print(f"| {what} | {(after - before) / 1e6:,.0f} | {(after - before) / floor:.1%} |")
    print(f"| **plan** | **{counts[-1] / 1e6:,.0f}** | **{counts[-1] / floor:.1%}** |")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
