"""Prefect registration benchmark: 50 pools (a credentials block and a work pool each)
registered against a local Prefect server, then a rerun with no change, then destroy.

Calls the resources' providers the way `pulumi up` / `pulumi destroy` do (create; diff on
a rerun; delete), one after another, through a loopback proxy that counts the requests
that reach the server. Writes its results into docs/benchmarks.md, section
"## Prefect registration" (the rest of the file is left as it is).

    .venv/bin/python benchmarks/prefect_registration.py [--pools 50] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# This process's Prefect client settings stay out of the user's home.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="pushpools-bench-"))

from results_doc import write_section  # noqa: E402

from tests.prefect_server import LoopbackProxy, PrefectServer  # noqa: E402

MARKER = "prefect-registration"


def block_props(api_url: str, index: int) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "type_slug": "aws-credentials",
        "name": f"bench-{index:03d}-aws-credentials",
        "data": {
            "aws_access_key_id": f"AKIABENCH{index:011d}",
            "aws_secret_access_key": f"bench-secret-{index:03d}-" + "x" * 27,
            "region_name": "eu-west-1",
        },
        "adopt_existing": False,
    }


def pool_props(api_url: str, index: int, block_id: str) -> dict[str, Any]:
    account = "123456789012"
    return {
        "api_url": api_url,
        "name": f"bench-{index:03d}",
        "type": "ecs",
        "description": f"Benchmark pool {index}",
        "concurrency_limit": 10,
        "paused": False,
        "template_defaults": {
            "cluster": f"arn:aws:ecs:eu-west-1:{account}:cluster/prefect-ecs-cluster",
            "execution_role_arn": f"arn:aws:iam::{account}:role/PrefectEcsTaskExecutionRole",
            "task_role_arn": f"arn:aws:iam::{account}:role/bench-{index:03d}-task",
            "vpc_id": "vpc-0a1b2c3d4e5f",
            "network_configuration": {
                "subnets": ["subnet-0a", "subnet-0b", "subnet-0c"],
                "securityGroups": ["sg-0123"],
                "assignPublicIp": "ENABLED",
            },
            "configure_cloudwatch_logs": True,
        },
        "credentials_variable": "aws_credentials",
        "block_document_id": block_id,
        "base_template": None,
        "adopt_existing": False,
    }


class Phase:
    def __init__(self, proxy: LoopbackProxy) -> None:
        self.proxy = proxy

    def __enter__(self) -> Phase:
        self.proxy.reset()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.requests = len(self.proxy.seen)
        self.writes = len(self.proxy.writes())


def run(pools: int) -> dict[str, Phase]:
    from pushpools.components.prefect.blocks import BlockProvider
    from pushpools.components.prefect.work_pools import WorkPoolProvider

    blocks, work_pools = BlockProvider(), WorkPoolProvider()
    server = PrefectServer("bench").start()
    try:
        server.wait_ready()
        with LoopbackProxy(server.api_url) as proxy:
            url = proxy.api_url
            states: list[tuple[dict[str, Any], dict[str, Any]]] = []
            with Phase(proxy) as up:
                for i in range(pools):
                    block = {**block_props(url, i)}
                    block.update(blocks.create(block).outs or {})
                    pool = pool_props(url, i, block["block_document_id"])
                    pool.update(work_pools.create(pool).outs or {})
                    states.append((block, pool))
            with Phase(proxy) as rerun:
                for i, (block, pool) in enumerate(states):
                    assert not blocks.diff("", block, block_props(url, i)).changes
                    news = pool_props(url, i, block["block_document_id"])
                    assert not work_pools.diff("", pool, news).changes
            with Phase(proxy) as destroy:
                for block, pool in states:
                    work_pools.delete(pool["name"], pool)
                    blocks.delete("", block)
        return {"up": up, "rerun": rerun, "destroy": destroy}
    finally:
        server.stop()


def render(pools: int, phases: dict[str, Phase]) -> str:
    import prefect

    rows = [
        ("`pulumi up`: create", "create", phases["up"]),
        ("rerun, no change", "diff (reads live state)", phases["rerun"]),
        ("`pulumi destroy`", "delete", phases["destroy"]),
    ]
    lines = [
        f"{pools} pools, each an `aws-credentials` block and an `ecs` work pool with the full "
        "ECS template and 7 defaults, registered against a local `prefect server start` "
        f"(Prefect {prefect.__version__}, SQLite, `--no-services`) on a {os.cpu_count()}-core "
        f"{platform.system()} machine, Python {platform.python_version()}, "
        f"{date.today().isoformat()}. The providers are called one resource after another "
        "(Pulumi runs independent resources in parallel, so this is an upper bound); requests are "
        "counted on the wire by a loopback proxy, whose own cost is included. Writes are "
        "POST/PUT/PATCH/DELETE requests, except the read-only `.../filter` POSTs.",
        "",
        "| phase | provider calls | wall time | per pool | requests | writes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, calls, phase in rows:
        lines.append(
            f"| {label} | {calls} | {phase.seconds:.1f} s | {phase.seconds / pools * 1000:.0f} ms "
            f"| {phase.requests} | {phase.writes} |"
        )
    lines += [
        "",
        "Rerun with no change: 0 writes (the check reads each block, with secrets, and each "
        "pool once, to catch changes made in the Prefect UI).",
        "",
        "Reproduce: `.venv/bin/python benchmarks/prefect_registration.py`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args()
    phases = run(args.pools)
    section = render(args.pools, phases)
    print(section)
    if phases["rerun"].writes != 0:
        print("a rerun with no change wrote to Prefect", file=sys.stderr)
        return 1
    if not args.no_write:
        write_section(MARKER, "Prefect registration", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
