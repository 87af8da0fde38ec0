"""A newcomer's first contact: a fresh clone to the first plan's output, and to a green test run.

Clones this checkout's HEAD into a temporary folder and runs README's first command there,
exactly as written (`./dev plan --stack dev`), timing it as a whole process; then the same
plan again (now with the environment installed and bytecode written); optionally
`./dev test`. The package cache is the machine's own (warm, when this project was installed
before) unless `--cold`, which points uv at an empty cache so every package is downloaded
from the registry again. Results go into docs/benchmarks.md.

    .venv/bin/python benchmarks/fresh_clone.py            # warm cache: first plan, second plan
    .venv/bin/python benchmarks/fresh_clone.py --cold     # also with an empty package cache
    .venv/bin/python benchmarks/fresh_clone.py --test     # also ./dev test in the fresh clone
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- fresh-clone:start -->", "<!-- fresh-clone:end -->"
TARGET_S = 30.0


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{result.stderr[-3000:]}")
    return elapsed


def fresh_clone(workdir: Path, name: str) -> Path:
    target = workdir / name
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    return target


def measure(*, cold: bool, with_tests: bool) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="pushpools-fresh-clone-") as tmp:
        workdir = Path(tmp)
        env = dict(os.environ)
        # As on this project's machines: nothing inherited from the checkout we run from.
        env.pop("VIRTUAL_ENV", None)
        cache = "warm package cache"
        if cold:
            env["UV_CACHE_DIR"] = str(workdir / "empty-uv-cache")
            cache = "empty package cache (every package downloaded)"
        clone = fresh_clone(workdir, "pushpools")
        rows.append(
            (
                f"fresh clone, {cache}: `./dev plan --stack dev`",
                timed(["./dev", "plan", "--stack", "dev"], clone, env),
            )
        )
        if not cold:
            rows.append(
                (
                    "second `./dev plan --stack dev`",
                    timed(["./dev", "plan", "--stack", "dev"], clone, env),
                )
            )
            if with_tests:
                test_clone = fresh_clone(workdir, "pushpools-tests")
                rows.append(
                    (
                        f"fresh clone, {cache}: `./dev test`",
                        timed(["./dev", "test"], test_clone, env),
                    )
                )
        shutil.rmtree(workdir / "empty-uv-cache", ignore_errors=True)
    return rows


def render(rows: list[tuple[str, float]]) -> str:
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    lines = [
        START,
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, uv already installed "
        f"({'on PATH' if shutil.which('uv') else uv}); one run each, wall time of the whole "
        f"command. Target: fresh clone to the first plan's output <= {TARGET_S:.0f} s with a "
        "warm package cache.",
        "",
        "| what | wall time |",
        "|---|---:|",
        *(f"| {what} | {seconds:.1f} s |" for what, seconds in rows),
        END,
    ]
    return "\n".join(lines)


def write(section: str) -> None:
    text = DOC.read_text()
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Fresh clone to first plan\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also measure with an empty cache")
    parser.add_argument("--test", action="store_true", help="also time ./dev test")
    parser.add_argument("--no-write", action="store_true", help="print, don't update the doc")
    args = parser.parse_args()
    rows = measure(cold=False, with_tests=args.test)
    if args.cold:
        rows += measure(cold=True, with_tests=False)
    section = render(rows)
    print(section)
    if not args.no_write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
