"""Offline plans of stacks, produced by the main project's own `pushpools plan --json`.

The main project and this pack cannot share an environment (protobuf pins), so the plan
runs in the main `.venv`, in a subprocess, at test time: the recorded inputs are always
those of the stacks as they are now, never a stale copy.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
PUSHPOOLS = PROJECT / ".venv" / "bin" / "pushpools"

SHIPPED_STACKS = (
    PROJECT / "stacks" / "Pulumi.dev.yaml",
    PROJECT / "stacks" / "Pulumi.prod.yaml",
    *sorted((PROJECT / "benchmarks" / "stacks").glob("*.yaml")),
    # Not shipped, but what the pack must also pass: a keyless Managed pool's resources.
    Path(__file__).resolve().parent / "stacks" / "Pulumi.keyless.yaml",
)


def plan(stack_file: Path) -> dict[str, Any]:
    if not PUSHPOOLS.exists():
        raise RuntimeError(
            f"{PUSHPOOLS} is missing: install the main project first (`./dev setup`)"
        )
    result = subprocess.run(
        [str(PUSHPOOLS), "plan", "--stack-file", str(stack_file), "--json"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pushpools plan of {stack_file} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def plans(stack_files: tuple[Path, ...] | list[Path]) -> dict[str, dict[str, Any]]:
    """File name -> plan; two at a time (each plan is one busy core for a few seconds)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((f.name for f in stack_files), pool.map(plan, stack_files), strict=True))


def stack_resource(document: dict[str, Any]) -> dict[str, Any]:
    """The stack itself as CrossGuard's stack validation sees it: type `pulumi:pulumi:Stack`,
    its properties being the stack outputs."""
    return {
        "type": "pulumi:pulumi:Stack",
        "name": f"pushpools-{document['stack']}",
        "urn": f"urn:pulumi:{document['stack']}::pushpools::pulumi:pulumi:Stack::pushpools-"
        f"{document['stack']}",
        "inputs": document["outputs"],
    }


def find(document: dict[str, Any], resource_type: str, name: str) -> dict[str, Any]:
    for resource in document["resources"]:
        if resource["type"] == resource_type and resource["name"] == name:
            return resource
    raise KeyError(f"no {resource_type} named {name!r} in the plan of {document['stack']}")
