"""A Coiled pool registered at a real local Prefect server: its block, its pool wired to
the block, a token rotation, and adoption of what Prefect's helper made.

A self-hosted server knows neither the `coiled-credentials` block type (Prefect Cloud has
it) nor the `coiled` worker's template (prefect-coiled ships it, and is not in this
environment): the test registers the block type with prefect-coiled 0.0.4's own
CoiledCredentials schema and gives the pool the worker's recorded template, as a
self-hosted user with prefect-coiled installed would have them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import (
    BlockDocumentCreate,
    BlockSchemaCreate,
    BlockTypeCreate,
    WorkPoolCreate,
)

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.engine import ProgramRun, reveal
from tests.harness import run_config
from tests.prefect_server import LoopbackProxy, PrefectServer

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
RECORDED = Path(__file__).parent / "coiled"
TEMPLATE = RECORDED / "coiled_worker_template.json"


@pytest.fixture(scope="module")
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def block_type(prefect_server: PrefectServer) -> None:
    """`coiled-credentials` with prefect-coiled's CoiledCredentials schema."""
    schema = json.loads((RECORDED / "coiled_credentials_schema.json").read_text())
    with SyncPrefectClient(prefect_server.api_url) as client:
        created = client.create_block_type(
            BlockTypeCreate(name="Coiled Credentials", slug="coiled-credentials")
        )
        client.create_block_schema(
            BlockSchemaCreate(
                fields={**schema["fields"], "block_type_slug": "coiled-credentials"},
                block_type_id=created.id,
                capabilities=schema["capabilities"],
                version=schema["version"],
            )
        )


def _run(proxy: LoopbackProxy, name: str, token: str, adopt: bool = False) -> ProgramRun:
    pool = {
        "name": name,
        "type": "coiled",
        "coiled": {"workspace": "acme-data", "cpu": 4, "memory": "16 GiB"},
        "prefect": {"base_job_template_file": str(TEMPLATE), "adopt_existing": adopt},
    }
    return run_config(
        {
            "pushpools:pools": [pool],
            "pushpools:coiledApiToken": token,
            "pushpools:prefect": {"api_url": proxy.api_url},
        },
        ["pushpools:coiledApiToken"],
    )


def _up(run: ProgramRun) -> tuple[dict[str, Any], dict[str, Any]]:
    block_news = reveal(run.one(BLOCK).inputs)
    block_state = {**block_news, **(BlockProvider().create(block_news).outs or {})}
    pool_news = _pool_inputs(run, block_state)
    pool_state = {**pool_news, **(WorkPoolProvider().create(pool_news).outs or {})}
    return block_state, pool_state


def _pool_inputs(run: ProgramRun, block_state: dict[str, Any]) -> dict[str, Any]:
    news = copy.deepcopy(reveal(run.one(WORK_POOL).inputs))
    news["block_document_id"] = block_state["block_document_id"]
    return news


def test_the_pool_and_its_block_are_registered_and_wired(
    block_type: None, proxy: LoopbackProxy, prefect_server: PrefectServer
) -> None:
    block_state, _ = _up(_run(proxy, "coiled-runs", "coiled-tok-first"))

    with SyncPrefectClient(prefect_server.api_url) as client:
        stored = client.read_block_document(block_state["block_document_id"], include_secrets=True)
        assert stored.name == "coiled-runs-coiled-credentials"
        assert stored.block_type is not None
        assert stored.block_type.slug == "coiled-credentials"
        assert stored.data == {"api_token": "coiled-tok-first"}
        pool = client.read_work_pool("coiled-runs")
    assert pool.type == "coiled"
    properties = pool.base_job_template["variables"]["properties"]
    assert properties["credentials"]["default"] == {
        "$ref": {"block_document_id": block_state["block_document_id"]}
    }
    assert properties["workspace"]["default"] == "acme-data"
    assert properties["cpu"]["default"] == 4
    assert properties["memory"]["default"] == "16 GiB"


def test_a_new_token_updates_the_block_in_place(
    block_type: None, proxy: LoopbackProxy, prefect_server: PrefectServer
) -> None:
    block_state, _ = _up(_run(proxy, "coiled-rotate", "coiled-tok-old"))
    news = reveal(_run(proxy, "coiled-rotate", "coiled-tok-new").one(BLOCK).inputs)

    assert BlockProvider().diff("", block_state, news).changes
    outs = BlockProvider().update("", block_state, news).outs or {}

    assert outs["block_document_id"] == block_state["block_document_id"]  # the pool's ref holds
    with SyncPrefectClient(prefect_server.api_url) as client:
        stored = client.read_block_document(block_state["block_document_id"], include_secrets=True)
    assert stored.data == {"api_token": "coiled-tok-new"}


def test_the_helpers_block_and_pool_are_adopted_in_place(
    block_type: None, proxy: LoopbackProxy, prefect_server: PrefectServer
) -> None:
    # What `prefect work-pool create --type coiled:push --provision-infra helper-made`
    # leaves: a block named <pool>-coiled-credentials and a pool whose credentials
    # variable references it (as the worker type here).
    template = json.loads(TEMPLATE.read_text())
    with SyncPrefectClient(prefect_server.api_url) as client:
        block_type_id = client.read_block_type_by_slug("coiled-credentials").id
        schema = client.get_most_recent_block_schema_for_block_type(block_type_id)
        assert schema is not None
        helper_block = client.create_block_document(
            BlockDocumentCreate(
                name="helper-made-coiled-credentials",
                data={"api_token": "coiled-tok-helper"},
                block_type_id=block_type_id,
                block_schema_id=schema.id,
            )
        )
        template["variables"]["properties"]["credentials"]["default"] = {
            "$ref": {"block_document_id": str(helper_block.id)}
        }
        client.create_work_pool(
            WorkPoolCreate(name="helper-made", type="coiled", base_job_template=template)
        )

    block_state, _ = _up(_run(proxy, "helper-made", "coiled-tok-stack", adopt=True))

    assert block_state["block_document_id"] == str(helper_block.id)
    with SyncPrefectClient(prefect_server.api_url) as client:
        stored = client.read_block_document(helper_block.id, include_secrets=True)
        assert stored.data == {"api_token": "coiled-tok-stack"}
        properties = client.read_work_pool("helper-made").base_job_template["variables"][
            "properties"
        ]
    assert properties["workspace"]["default"] == "acme-data"
