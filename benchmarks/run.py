"""Offline-plan benchmark: each stack's plan against its floor, side by side in one run.

The floor of a stack is a process that only imports `pulumi`, `pydantic` (the design
card's library for config: validating the stack config is its job) and the provider
modules that stack's plan imports (the classes it declares): what any Pulumi program
declaring those resources with its config in pydantic must pay, including the
interpreter's usual exit. Two plans are timed:

- the command as `./dev plan` runs it: `.venv/bin/pushpools plan --stack-file <stack>`.
  It ends by freezing its objects, so the interpreter's exit skips collecting them;
- the same plan ending the way the floor does (the interpreter's usual exit): the
  like-for-like figure, which the target is judged by. Skipping the exit's collection
  would shorten the floor too, by more than the plan's own work.

Runs are interleaved (floor, plan, plan with the usual exit, floor, ...) so that load on
the machine hits all alike; wall time and peak RSS are medians. Results go into
docs/benchmarks.md.

    ./dev bench            # 9 rounds (default)
    ./dev bench --rounds 5 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_doc import write_section

ROOT = Path(__file__).resolve().parent.parent
STACKS = [
    ROOT / "stacks" / "Pulumi.dev.yaml",
    *sorted((ROOT / "benchmarks" / "stacks").glob("*.yaml")),
]
MARKER = "offline-plan"
TARGET_RATIO = 1.3

# Provider packages put every submodule into sys.modules as a lazy placeholder (pulumi's
# own _LazyModule); only the modules a plan really loaded count.
_PROVIDER_MODULES = """
import contextlib, io, json, sys
from pushpools_tools.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["plan", "--stack-file", sys.argv[1]]) == 0
print(json.dumps(sorted(n for n, m in list(sys.modules.items())
                        if n.startswith("pulumi_") and m is not None
                        and type(m).__name__ != "_LazyModule")))
"""


# `pushpools plan` as `pushpools_tools.cli.run` runs it, except that it exits as any Python
# process does, like the floor.
_PLAN_USUAL_EXIT = """
import sys
from pushpools_tools.cli import main
sys.exit(main(["plan", "--stack-file", sys.argv[1]]))
"""


# Both sides run with their bytecode cached, as `./dev` leaves it (the first, unmeasured run
# of each writes it), even where the environment forbids writing bytecode.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def provider_modules(stack: Path) -> list[str]:
    return modules_listed_by(_PROVIDER_MODULES, stack)


def modules_listed_by(script: str, stack: Path) -> list[str]:
    """The module names a child running `script` on the stack prints last, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(stack)],
        cwd=ROOT,
        env=CHILD_ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        stderr = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{argv} failed: {stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def stack_commands(stack: Path, modules: list[str]) -> dict[str, list[str]]:
    """The three processes compared: the floor, `pushpools plan` as `./dev plan` runs it,
    and the same plan ending as the floor does (`like`, which the target is judged by)."""
    # `import pydantic` alone loads next to nothing (its attributes load lazily on first
    # use): the floor imports what every program whose config is pydantic's imports.
    floor_code = "import pulumi\nfrom pydantic import BaseModel, Field\n" + "".join(
        f"import {m}\n" for m in modules
    )
    return {
        "floor": [sys.executable, "-c", floor_code],
        "plan": [str(ROOT / ".venv" / "bin" / "pushpools"), "plan", "--stack-file", str(stack)],
        "like": [sys.executable, "-c", _PLAN_USUAL_EXIT, str(stack)],
    }


def modules_summary(modules: list[str]) -> str:
    packages = sorted({m.split(".")[0] for m in modules})
    return f"pulumi, pydantic's BaseModel + {len(modules)} modules of {', '.join(packages)}"


def bench_stack(stack: Path, rounds: int) -> dict[str, object]:
    modules = provider_modules(stack)
    commands = stack_commands(stack, modules)
    for argv in commands.values():  # warm the page cache: first runs measure the disk
        measure(argv)
    samples: dict[str, list[tuple[float, float]]] = {kind: [] for kind in commands}
    for _ in range(rounds):
        for kind, argv in commands.items():
            samples[kind].append(measure(argv))
    result: dict[str, object] = {"stack": stack.relative_to(ROOT).as_posix(), "modules": modules}
    for kind, values in samples.items():
        result[f"{kind}_s"] = statistics.median(v[0] for v in values)
        result[f"{kind}_mib"] = statistics.median(v[1] for v in values)
    result["ratio"] = result["like_s"] / result["floor_s"]  # type: ignore[operator]
    result["command_ratio"] = result["plan_s"] / result["floor_s"]  # type: ignore[operator]
    return result


def render(results: list[dict[str, object]], rounds: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, median of {rounds} interleaved "
        "runs, bytecode cached (as any second run of `./dev` has it). Target: the plan, "
        f"ending as the floor does, <= {TARGET_RATIO}x floor.",
        "",
        "| stack | floor: imports | floor s | floor MiB | plan, usual exit s | plan MiB | "
        "plan / floor (target) | `pushpools plan` s | `pushpools plan` / floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        modules = modules_summary(r["modules"])  # type: ignore[arg-type]
        ok = "" if r["ratio"] <= TARGET_RATIO else " (over target)"  # type: ignore[operator]
        lines.append(
            f"| `{r['stack']}` | {modules} | {r['floor_s']:.2f} | {r['floor_mib']:.0f} | "
            f"{r['like_s']:.2f} | {r['like_mib']:.0f} | {r['ratio']:.2f}x{ok} | "
            f"{r['plan_s']:.2f} | {r['command_ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-write", action="store_true", help="print, don't update the doc")
    args = parser.parse_args()
    results = [bench_stack(stack, args.rounds) for stack in STACKS]
    section = render(results, args.rounds)
    print(section)
    if not args.no_write:
        write_section(MARKER, "Offline plan against its floor", section)
    # A measurement, not a test: the table says which stacks are over the target.
    return 0


if __name__ == "__main__":
    sys.exit(main())
