"""Offline-plan benchmark, counted in instructions: each stack's plan against its floor.

Wall time on a shared 2-core machine moves by 10-20% from one run to the next, enough to
swing a plan/floor ratio from 1.2x to 1.5x for the same code. The number of instructions a
process executes does not: under valgrind's callgrind, with hash randomisation fixed
(PYTHONHASHSEED=0), a run repeats to within a millionth. This is the figure to compare
before and after a change; `run.py`'s wall times say what a user waits.

The processes are `run.py`'s: the floor (importing pulumi and the provider modules the
plan loads) and the plan ending as the floor does. Each runs once, under callgrind,
bytecode cached; two run at a time, one per core. It takes about ten minutes.

    .venv/bin/python benchmarks/instructions.py            # writes docs/benchmarks.md
    .venv/bin/python benchmarks/instructions.py --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from results_doc import write_section
from run import (
    CHILD_ENV,
    ROOT,
    STACKS,
    TARGET_RATIO,
    modules_summary,
    provider_modules,
    stack_commands,
)

MARKER = "offline-plan-instructions"
_TOTAL = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(argv: list[str]) -> int:
    """Instructions one process executes, as callgrind counts them."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=ROOT,
        env={**CHILD_ENV, "PYTHONHASHSEED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    found = _TOTAL.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{argv[:3]}... failed under valgrind: {done.stderr[-2000:]}")
    return int(found.group(1))


@dataclass(frozen=True)
class StackCount:
    stack: str
    modules: list[str]
    floor: int
    plan: int


def count_stack(stack: Path) -> StackCount:
    modules = provider_modules(stack)
    commands = stack_commands(stack, modules)
    counted = [commands["floor"], commands["like"]]
    for argv in counted:  # the first run writes bytecode; never count that
        subprocess.run(argv, cwd=ROOT, env=CHILD_ENV, capture_output=True, check=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        floor, plan = pool.map(instructions, counted)
    return StackCount(stack.relative_to(ROOT).as_posix(), modules, floor, plan)


def render(counts: list[StackCount]) -> str:
    lines = [
        f"Counted {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, valgrind callgrind, PYTHONHASHSEED=0, bytecode cached. "
        f"Target: plan <= {TARGET_RATIO}x floor.",
        "",
        "| stack | floor: imports | floor, millions of instructions | plan (usual exit) | "
        "plan / floor | the plan's own work |",
        "|---|---|---:|---:|---|---:|",
    ]
    for c in counts:
        ratio = c.plan / c.floor
        ok = "" if ratio <= TARGET_RATIO else " (over target)"
        lines.append(
            f"| `{c.stack}` | {modules_summary(c.modules)} | {c.floor / 1e6:,.0f} | "
            f"{c.plan / 1e6:,.0f} | {ratio:.3f}x{ok} | {(c.plan - c.floor) / 1e6:,.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print, don't update the doc")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    section = render([count_stack(stack) for stack in STACKS])
    print(section)
    if not args.no_write:
        write_section(MARKER, "Offline plan against its floor, in instructions", section)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
