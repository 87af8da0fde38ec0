"""The connector reaches Prefect and Prefect's own Cloud Run code: a real local Prefect
server takes the template default of `cloud-run` and `cloud-run-v2` pools (their
templates, as the server serves them, declare `vpc_connector_name`), and prefect-gcp's
job configurations put it where Cloud Run reads it.

A self-hosted server serves the worker types only; Prefect Cloud serves `cloud-run:push`
and `cloud-run-v2:push`, whose templates registration checks the same way when it runs
(docs/verification.md)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect_gcp.workers.cloud_run import CloudRunWorkerJobConfiguration
from prefect_gcp.workers.cloud_run_v2 import CloudRunWorkerJobV2Configuration

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.engine import ProgramRun, reveal
from tests.harness import run_config
from tests.prefect_server import PrefectServer

HOST_CONNECTOR = "projects/acme-net-host/locations/europe-west1/connectors/shared-euw1"
NEW_CONNECTOR = "projects/acme-data-dev/locations/europe-west1/connectors/run-v1-vpc"


def _pool(name: str, type_: str, network: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "gcp": {"project": "acme-data-dev", "region": "europe-west1", "network": network},
    }


@pytest.fixture(scope="module")
def run(prefect_server: PrefectServer) -> ProgramRun:
    return run_config(
        {
            "pushpools:pools": [
                _pool(
                    "run-v1",
                    "cloud-run",
                    {"connector": {"network": "default", "ip_cidr_range": "10.8.0.0/28"}},
                ),
                _pool("run-v2", "cloud-run-v2", {"existing_connector": HOST_CONNECTOR}),
            ],
            "pushpools:prefect": {"api_url": prefect_server.api_url},
        }
    )


@pytest.fixture(scope="module")
def registered(run: ProgramRun, prefect_server: PrefectServer) -> Iterator[dict[str, Any]]:
    """`pulumi up` of each pool's block and work pool; destroyed afterwards."""
    pools: dict[str, Any] = {}
    states: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        for name in ("run-v1", "run-v2"):
            block = reveal(
                run.one("pulumi-python:dynamic/prefect:Block", f"{name}-credentials-block").inputs
            )
            block_state = {**block, **(BlockProvider().create(block).outs or {})}
            news = copy.deepcopy(
                reveal(
                    run.one("pulumi-python:dynamic/prefect:WorkPool", f"{name}-work-pool").inputs
                )
            )
            news["block_document_id"] = block_state["block_document_id"]
            pool_state = {**news, **(WorkPoolProvider().create(news).outs or {})}
            states.append((block_state, pool_state))
            with SyncPrefectClient(prefect_server.api_url) as client:
                pools[name] = client.read_work_pool(name)
        yield pools
    finally:
        for block_state, pool_state in states:
            WorkPoolProvider().delete(pool_state["name"], pool_state)
            BlockProvider().delete("", block_state)


def _default(pool: Any) -> Any:
    return pool.base_job_template["variables"]["properties"]["vpc_connector_name"].get("default")


def _job_body(run: ProgramRun, pool: Any, configuration: Any) -> dict[str, Any]:
    """The job Prefect's Cloud Run code builds from the pool's template and its block."""
    block_data = reveal(run.outputs["credentials_blocks"])[pool.name]["data"]
    built = asyncio.run(
        configuration.from_template_and_values(
            pool.base_job_template, {"credentials": block_data}, client=object()
        )
    )
    return built.job_body


def test_the_servers_cloud_run_template_takes_the_new_connectors_full_name(
    run: ProgramRun, registered: dict[str, Any]
) -> None:
    pool = registered["run-v1"]
    assert pool.type == "cloud-run"
    assert _default(pool) == NEW_CONNECTOR
    body = _job_body(run, pool, CloudRunWorkerJobConfiguration)
    annotations = body["spec"]["template"]["metadata"]["annotations"]
    assert annotations["run.googleapis.com/vpc-access-connector"] == NEW_CONNECTOR


def test_the_servers_cloud_run_v2_template_takes_the_hosts_shared_connector(
    run: ProgramRun, registered: dict[str, Any]
) -> None:
    pool = registered["run-v2"]
    assert pool.type == "cloud-run-v2"
    assert _default(pool) == HOST_CONNECTOR
    body = _job_body(run, pool, CloudRunWorkerJobV2Configuration)
    assert body["template"]["template"]["vpcAccess"] == {"connector": HOST_CONNECTOR}
