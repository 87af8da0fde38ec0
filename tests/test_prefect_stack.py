"""The whole dev stack: the real stack program on the offline engine, then the Prefect
resources it declared taken through their lifecycle against a real Prefect server.

A self-hosted server knows no push pools, so each push pool of the dev stack runs here as
its worker type (same cloud infrastructure, same template variables); pools that exist only
in Prefect Cloud (Modal, Prefect Managed) are shown to be refused for this server.
The engine would hand the pool the block's real ID; the test does the same.

Every lifecycle test starts from its own `pulumi up` (the `created` fixture) and leaves the
server as it found it: none depends on another having run before it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.exceptions import ObjectNotFound

from pushpools.components.config import PoolConfig
from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.connection import is_cloud_only_type, worker_type_for
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.engine import ProgramRun, Registration, reveal
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackSettings, load_stack
from tests.harness import PROJECT_DIR, config_problems
from tests.prefect_server import LoopbackProxy, PrefectServer

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"


def dev_settings() -> StackSettings:
    return load_stack(PROJECT_DIR, PROJECT_DIR / "stacks" / "Pulumi.dev.yaml", "dev")


def dev_pools() -> list[dict[str, Any]]:
    return json.loads(dev_settings().config["pushpools:pools"])


def for_self_hosted(pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pools a self-hosted server can hold: push types as their worker types."""
    kept = []
    for pool in pools:
        worker = worker_type_for(pool["type"])
        if worker is not None:
            kept.append({**pool, "type": worker})
        elif not is_cloud_only_type(pool["type"]):
            kept.append(pool)
    return kept


@dataclass
class Registered:
    """One pool's Prefect resources: as the program declared them, and as created (each
    test's own copy: the states are written by that test's `pulumi up`)."""

    name: str
    pool: Registration
    block: Registration | None
    block_state: dict[str, Any] | None = None
    pool_state: dict[str, Any] | None = None


@pytest.fixture(scope="module")
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def run(proxy: LoopbackProxy) -> ProgramRun:
    settings = dev_settings()
    kept = for_self_hosted(dev_pools())
    # Secrets that only the left-out pools name (a Modal token) leave with them.
    left_out = [p for p in dev_pools() if p["name"] not in {k["name"] for k in kept}]
    unused = {
        f"pushpools:{key}"
        for pool in left_out
        for key in PoolConfig.model_validate(pool).secret_config_keys()
    }
    config = {
        **{k: v for k, v in settings.config.items() if k not in unused},
        "pushpools:pools": json.dumps(kept),
        "pushpools:prefect": json.dumps({"api_url": proxy.api_url}),
    }
    return run_stack(
        PROJECT_DIR, StackSettings(settings.project, "dev", config, settings.secret_keys)
    )


@pytest.fixture(scope="module")
def declared(run: ProgramRun) -> list[Registered]:
    """What the program declared; nothing created. Tests take copies (`fresh`)."""
    found = []
    for pool in run.find(WORK_POOL):
        name = reveal(pool.inputs)["name"]
        blocks = [b for b in run.find(BLOCK) if b.parent == pool.parent]
        assert len(blocks) <= 1
        found.append(Registered(name, pool, blocks[0] if blocks else None))
    return found


@pytest.fixture
def fresh(declared: list[Registered], proxy: LoopbackProxy) -> Iterator[list[Registered]]:
    """This test's own records, nothing created yet; afterwards, whatever the test left in
    Prefect is destroyed, so the next test finds the server as this one did."""
    items = [Registered(d.name, d.pool, d.block) for d in declared]
    yield items
    _destroy(items)


@pytest.fixture
def created(fresh: list[Registered]) -> list[Registered]:
    """After `pulumi up`: every block and pool created, their states recorded."""
    _up(fresh)
    return fresh


def test_every_pool_of_the_dev_stack_is_declared_in_prefect(
    run: ProgramRun, declared: list[Registered]
) -> None:
    expected = {p["name"] for p in for_self_hosted(dev_pools())}
    assert {r.name for r in declared} == expected
    assert len(expected) >= 1
    for item in declared:
        component = next(r for r in run.resources if r.urn == item.pool.parent)
        assert component.name == item.name
        payloads = run.outputs["pools"][item.name]
        wired = reveal(item.pool.inputs)
        assert wired["template_defaults"] == payloads["template_defaults"]
        if payloads["credentials_block"] is None:
            assert item.block is None
            assert wired["credentials_variable"] is None
        else:
            assert item.block is not None
            assert wired["credentials_variable"] == payloads["credentials_block"]["variable"]
            assert reveal(item.block.inputs)["name"] == payloads["credentials_block"]["name"]


def test_up_creates_every_block_and_pool_wired_as_declared(
    fresh: list[Registered], prefect_server: PrefectServer
) -> None:
    _up(fresh)

    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in fresh:
            assert item.pool_state is not None
            pool = client.read_work_pool(item.name)
            properties = pool.base_job_template["variables"]["properties"]
            declared = reveal(item.pool.inputs)
            for variable, value in declared["template_defaults"].items():
                assert properties[variable]["default"] == value, (item.name, variable)
            if item.block is not None:
                assert item.block_state is not None
                block_id = item.block_state["block_document_id"]
                assert properties[declared["credentials_variable"]]["default"] == {
                    "$ref": {"block_document_id": block_id}
                }
                # What Prefect holds is exactly the payload the cloud component made.
                stored = client.read_block_document(block_id, include_secrets=True)
                assert stored.data == reveal(item.block.inputs)["data"]


def test_a_rerun_without_changes_writes_nothing(
    created: list[Registered], proxy: LoopbackProxy
) -> None:
    proxy.reset()
    for item in created:
        if item.block is not None:
            assert item.block_state is not None
            news = reveal(item.block.inputs)
            assert not BlockProvider().diff("", item.block_state, news).changes
        assert item.pool_state is not None
        assert not WorkPoolProvider().diff("", item.pool_state, _pool_inputs(item)).changes
    assert proxy.seen  # drift was checked against Prefect ...
    assert proxy.writes() == []  # ... and nothing was written


def test_a_changed_description_updates_each_pool_in_place(
    created: list[Registered], proxy: LoopbackProxy, prefect_server: PrefectServer
) -> None:
    proxy.reset()
    for item in created:
        assert item.pool_state is not None
        news = {**_pool_inputs(item), "description": f"{item.name}, now reviewed"}
        assert WorkPoolProvider().diff(item.name, item.pool_state, news).changes
        outs = WorkPoolProvider().update(item.name, item.pool_state, news).outs or {}
        item.pool_state = {**news, **outs}
    assert len(proxy.writes()) == len(created)
    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in created:
            assert client.read_work_pool(item.name).description == f"{item.name}, now reviewed"


def test_destroy_deletes_pools_then_blocks(
    created: list[Registered], proxy: LoopbackProxy, prefect_server: PrefectServer
) -> None:
    proxy.reset()
    _destroy(created)

    deletes = [s.path for s in proxy.writes() if s.method == "DELETE"]
    pools_done = max(i for i, p in enumerate(deletes) if p.startswith("/api/work_pools/"))
    assert all(p.startswith("/api/block_documents/") for p in deletes[pools_done + 1 :])
    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in created:
            with pytest.raises(ObjectNotFound):
                client.read_work_pool(item.name)
            if item.block_state is not None:
                with pytest.raises(ObjectNotFound):
                    client.read_block_document(item.block_state["block_document_id"])


def test_pools_only_prefect_cloud_runs_are_refused_for_a_self_hosted_server(
    proxy: LoopbackProxy,
) -> None:
    settings = dev_settings()
    pools = dev_pools()
    refused = {i: p["type"] for i, p in enumerate(pools) if is_cloud_only_type(p["type"])}
    config = {
        key: json.loads(value) if key == "pushpools:pools" else value
        for key, value in settings.config.items()
    }
    config["pushpools:prefect"] = {"api_url": proxy.api_url}

    problems = config_problems(config, settings.secret_keys)

    assert len(problems) == len(refused)
    for index, pool_type in refused.items():
        assert any(
            p.startswith(f"pushpools:pools[{index}].type: pool type {pool_type!r} exists only")
            for p in problems
        )


def _up(registered: list[Registered]) -> None:
    for item in registered:
        if item.block is not None:
            news = reveal(item.block.inputs)
            outs = BlockProvider().create(news).outs or {}
            item.block_state = {**news, **outs}
        news = _pool_inputs(item)
        outs = WorkPoolProvider().create(news).outs or {}
        item.pool_state = {**news, **outs}


def _destroy(registered: list[Registered]) -> None:
    """`pulumi destroy` of what was created; deleting what is already gone is a no-op."""
    for item in registered:  # the engine's order: a pool depends on its block
        if item.pool_state is not None:
            WorkPoolProvider().delete(item.name, item.pool_state)
    for item in registered:
        if item.block_state is not None:
            BlockProvider().delete("", item.block_state)


def _pool_inputs(item: Registered) -> dict[str, Any]:
    """The pool's inputs with the block's real ID, as the engine resolves the output."""
    news = copy.deepcopy(reveal(item.pool.inputs))
    if item.block_state is not None:
        news["block_document_id"] = item.block_state["block_document_id"]
    return news
