"""A stack of 5,000 pools with one problem in the first pool and one in the last: how long
`pushpools plan` takes to refuse it, and its peak memory, with both problems listed.

Three stacks: GCP pools whose config check fails (a bad project, a bad region); the same
pools with a key given twice in the first and the last pool (refused in reading); and pools
of three clouds. Each is planned `--rounds` times as a whole process under `/usr/bin/time
-v` (wall time and maximum resident set size); the median is written to docs/benchmarks.md.

    .venv/bin/python benchmarks/big_stack.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from results_doc import write_section

ROOT = Path(__file__).resolve().parent.parent
POOLS = 5000
MARKER = "big-stack"


def _gcp(index: int) -> list[str]:
    project = "Bad_Project" if index == 0 else "acme-data-dev"
    region = "mars-central1" if index == POOLS - 1 else "europe-west1"
    return [
        f"  - name: pool-{index:04d}",
        "    type: cloud-run:push",
        "    gcp:",
        f"      project: {project}",
        f"      region: {region}",
    ]


def _repeated(index: int) -> list[str]:
    lines = _gcp(index)
    lines[3] = "      project: acme-data-dev"
    lines[4] = "      region: europe-west1"
    if index in (0, POOLS - 1):
        lines.insert(2, "    type: ecs:push")  # the key `type` given twice
    return lines


def _mixed(index: int) -> list[str]:
    if index % 3 == 1:
        region = "mars-1" if index == POOLS - 1 else "eu-west-1"
        return [
            f"  - name: pool-{index:04d}",
            "    type: ecs:push",
            "    aws:",
            f"      region: {region}",
        ]
    if index % 3 == 2:
        return [
            f"  - name: pool-{index:04d}",
            "    type: azure-container-instance:push",
            "    azure:",
            "      subscription_id: 6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
            "      client_secret_expires_on: '2027-06-01'",
        ]
    return _gcp(index)[:4]  # no region: the default one


STACKS: dict[str, tuple[str, Callable[[int], list[str]]]] = {
    "gcp": ("5,000 Cloud Run pools; a bad project in the first, a bad region in the last", _gcp),
    "repeated-key": ("the same pools; a key given twice in the first and in the last", _repeated),
    "mixed": (
        "5,000 pools of GCP, AWS and Azure; a bad project first, a bad AWS region last",
        _mixed,
    ),
}


def _write(folder: Path, name: str, pool: Callable[[int], list[str]]) -> Path:
    lines = ["config:", "  pushpools:pools:"]
    for index in range(POOLS):
        lines += pool(index)
    path = folder / f"Pulumi.{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(stack_file: Path) -> tuple[float, float, str]:
    result = subprocess.run(
        ["/usr/bin/time", "-v", str(ROOT / ".venv" / "bin" / "pushpools"), "plan",
         "--stack-file", str(stack_file)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if result.returncode != 2 or not wall or not rss:
        raise SystemExit(f"{stack_file}: expected exit 2:\n{result.stderr[-3000:]}")
    hours, minutes, seconds = (float(g or 0) for g in wall.groups())
    return hours * 3600 + minutes * 60 + seconds, int(rss.group(1)) / 1024, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description="Refusing a 5,000-pool stack: time, memory")
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    rows = []
    with tempfile.TemporaryDirectory(prefix="pushpools-big-") as tmp:
        for name, (what, pool) in STACKS.items():
            path = _write(Path(tmp), name, pool)
            runs = [_run(path) for _ in range(rounds)]
            problems = [line for line in runs[0][2].splitlines() if line.startswith("  - ")]
            first, last = ("[0]", f"[{POOLS - 1}]")
            if len(problems) != 2 or first not in problems[0] or last not in problems[1]:
                raise SystemExit(f"{name}: expected the first and the last pool's problems")
            seconds = statistics.median(r[0] for r in runs)
            mib = statistics.median(r[1] for r in runs)
            lines = path.read_text().count("\n")
            rows.append(f"| {what} ({lines:,} lines) | {seconds:.1f} s | {mib:.0f} MiB |")
            print(rows[-1], file=sys.stderr)
    body = "\n".join(
        [
            f"Measured {date.today().isoformat()} on {platform.machine()}, Python "
            f"{platform.python_version()}, 2 cores shared with other work; `pushpools plan "
            f"--stack-file` as a whole process under `/usr/bin/time -v`, median of {rounds} "
            "runs. Each run exits with status 2 and lists both problems.",
            "",
            "| stack | wall time | peak memory (max RSS) |",
            "|---|---:|---:|",
            *rows,
        ]
    )
    write_section(MARKER, "Refusing a 5,000-pool stack", body)


if __name__ == "__main__":
    main()
