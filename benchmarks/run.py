"""Offline-plan benchmark: each stack's plan against its floor, side by side in one run.

The floor of a stack is a process that only imports `pulumi` and the provider modules
that stack's plan imports (the classes it declares): what any Pulumi program declaring
those resources must pay. The plan is `pushpools plan --stack-file <stack>`. Runs are
interleaved (plan, floor, plan, floor, ...) so that load on the machine hits both alike;
wall time and peak RSS are medians. Results go into docs/benchmarks.md.

    ./dev bench            # 7 rounds (default)
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
from pushpools.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["plan", "--stack-file", sys.argv[1]]) == 0
print(json.dumps(sorted(n for n, m in list(sys.modules.items())
                        if n.startswith("pulumi_") and m is not None
                        and type(m).__name__ != "_LazyModule")))
"""


# Both sides run with their bytecode cached, as `./dev` leaves it (the first, unmeasured run
# of each writes it), even where the environment forbids writing bytecode.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def provider_modules(stack: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROVIDER_MODULES, str(stack)],
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


def bench_stack(stack: Path, rounds: int) -> dict[str, object]:
    modules = provider_modules(stack)
    floor_code = "import pulumi\n" + "".join(f"import {m}\n" for m in modules)
    plan = [sys.executable, "-m", "pushpools.cli", "plan", "--stack-file", str(stack)]
    floor = [sys.executable, "-c", floor_code]
    samples: dict[str, list[tuple[float, float]]] = {"plan": [], "floor": []}
    measure(plan)  # warm the page cache for both: first runs measure the disk, not us
    measure(floor)
    for _ in range(rounds):
        samples["plan"].append(measure(plan))
        samples["floor"].append(measure(floor))
    result: dict[str, object] = {"stack": stack.relative_to(ROOT).as_posix(), "modules": modules}
    for kind, values in samples.items():
        result[f"{kind}_s"] = statistics.median(v[0] for v in values)
        result[f"{kind}_mib"] = statistics.median(v[1] for v in values)
    result["ratio"] = result["plan_s"] / result["floor_s"]  # type: ignore[operator]
    return result


def render(results: list[dict[str, object]], rounds: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, median of {rounds} interleaved "
        "runs, bytecode cached (as any second run of `./dev` has it). Target: plan <= "
        f"{TARGET_RATIO}x floor.",
        "",
        "| stack | floor: imports | floor s | floor MiB | plan s | plan MiB | plan / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        names: list[str] = r["modules"]  # type: ignore[assignment]
        packages = sorted({m.split(".")[0] for m in names})
        modules = f"pulumi + {len(names)} modules of {', '.join(packages)}"
        ok = "" if r["ratio"] <= TARGET_RATIO else " (over target)"  # type: ignore[operator]
        lines.append(
            f"| `{r['stack']}` | {modules} | {r['floor_s']:.2f} | {r['floor_mib']:.0f} | "
            f"{r['plan_s']:.2f} | {r['plan_mib']:.0f} | {r['ratio']:.2f}x{ok} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
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
