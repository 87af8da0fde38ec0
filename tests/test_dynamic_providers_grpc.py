"""The Prefect providers over the real provider protocol, as `pulumi up` drives them.

The Pulumi CLI runs a Python program's dynamic providers as `<project>/.venv/bin/python -u
-m pulumi.dynamic`, with the project root as working directory and no PYTHONPATH; the
server prints its port and answers gRPC. The providers reach it pickled by reference inside
each resource's `__provider` property, so this also proves that the installed library, not
the test's import path, serves them. Each test drives one provider through Configure, Check,
Create, Diff, Read, Update and Delete against a real local Prefect server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from harness import PROJECT_DIR, PYTHON
from prefect.client.orchestration import SyncPrefectClient
from prefect.exceptions import ObjectNotFound
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from tests.plugin_process import plugin_port
from tests.prefect_server import PrefectServer

PROVIDER = "__provider"
BLOCK_URN = "urn:pulumi:dev::pushpools::pulumi-python:dynamic/prefect:Block::b"
POOL_URN = "urn:pulumi:dev::pushpools::pulumi-python:dynamic/prefect:WorkPool::p"
TIMEOUT = 120


@pytest.fixture(scope="module")
def stub() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    # The CLI starts `<project>/.venv/bin/python`; here, the environment under test's own.
    argv = [str(PYTHON), "-u", "-m", "pulumi.dynamic"]
    # What `toolchain: uv` in Pulumi.yaml passes.
    with (
        plugin_port(argv, PROJECT_DIR, {"PULUMI_RUNTIME_TOOLCHAIN": "uv"}) as port,
        grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        yield provider_pb2_grpc.ResourceProviderStub(channel)


@pytest.fixture
def client(prefect_server: PrefectServer) -> Iterator[SyncPrefectClient]:
    with SyncPrefectClient(prefect_server.api_url) as client:
        yield client


def wire(props: dict[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine sends them (it strips secrets: the provider accepts none)."""
    return asyncio.run(rpc.serialize_properties(props, {}))


def plain(message: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(message)


def configure(stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    response = stub.Configure(
        provider_pb2.ConfigureRequest(args=wire({}), acceptSecrets=True), timeout=TIMEOUT
    )
    assert response.acceptSecrets is False


def check(stub: Any, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
    response = stub.Check(
        provider_pb2.CheckRequest(urn=urn, olds=wire(olds), news=wire(news)), timeout=TIMEOUT
    )
    assert list(response.failures) == []
    return plain(response.inputs)


def test_a_block_goes_through_its_whole_life_over_grpc(
    stub: Any, client: SyncPrefectClient, prefect_server: PrefectServer, unique_name: str
) -> None:
    configure(stub)
    news = {
        PROVIDER: serialize_provider(BlockProvider()),
        "api_url": prefect_server.api_url,
        "type_slug": "aws-credentials",
        "name": unique_name,
        "data": {"aws_access_key_id": "AKIAFIRST", "aws_secret_access_key": "first"},
        "adopt_existing": False,
    }
    inputs = check(stub, BLOCK_URN, {}, news)
    created = stub.Create(
        provider_pb2.CreateRequest(urn=BLOCK_URN, properties=wire(inputs)), timeout=TIMEOUT
    )
    state = plain(created.properties)
    document_id = state["block_document_id"]
    stored = client.read_block_document(document_id, include_secrets=True)
    assert stored.data["aws_access_key_id"] == "AKIAFIRST"

    same = stub.Diff(
        provider_pb2.DiffRequest(id=created.id, urn=BLOCK_URN, olds=wire(state), news=wire(inputs)),
        timeout=TIMEOUT,
    )
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

    rotated = {**news, "data": {"aws_access_key_id": "AKIASECOND", "aws_secret_access_key": "2"}}
    rotated_inputs = check(stub, BLOCK_URN, state, rotated)
    state = update_in_place(stub, BLOCK_URN, created.id, state, rotated_inputs)
    stored = client.read_block_document(document_id, include_secrets=True)
    assert stored.data["aws_access_key_id"] == "AKIASECOND"

    read = stub.Read(
        provider_pb2.ReadRequest(id=created.id, urn=BLOCK_URN, properties=wire(state)),
        timeout=TIMEOUT,
    )
    assert read.id == created.id
    assert plain(read.properties)["block_document_id"] == document_id

    stub.Delete(
        provider_pb2.DeleteRequest(id=created.id, urn=BLOCK_URN, properties=wire(state)),
        timeout=TIMEOUT,
    )
    with pytest.raises(ObjectNotFound):
        client.read_block_document(document_id)


def test_a_work_pool_goes_through_its_whole_life_over_grpc(
    stub: Any, client: SyncPrefectClient, prefect_server: PrefectServer, unique_name: str
) -> None:
    configure(stub)
    news = {
        PROVIDER: serialize_provider(WorkPoolProvider()),
        "api_url": prefect_server.api_url,
        "name": unique_name,
        # The worker type a self-hosted server serves; push types need Prefect Cloud.
        "type": "ecs",
        "concurrency_limit": 2,
        "paused": False,
        "template_defaults": {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/c"},
        "adopt_existing": False,
    }
    inputs = check(stub, POOL_URN, {}, news)
    created = stub.Create(
        provider_pb2.CreateRequest(urn=POOL_URN, properties=wire(inputs)), timeout=TIMEOUT
    )
    state = plain(created.properties)
    pool = client.read_work_pool(unique_name)
    assert pool.concurrency_limit == 2
    variables = pool.base_job_template["variables"]["properties"]
    assert variables["cluster"]["default"] == "arn:aws:ecs:eu-west-1:123456789012:cluster/c"

    changed = {**news, "concurrency_limit": 7, "paused": True}
    changed_inputs = check(stub, POOL_URN, state, changed)
    state = update_in_place(stub, POOL_URN, created.id, state, changed_inputs)
    pool = client.read_work_pool(unique_name)
    assert pool.concurrency_limit == 7
    assert pool.is_paused is True

    read = stub.Read(
        provider_pb2.ReadRequest(id=created.id, urn=POOL_URN, properties=wire(state)),
        timeout=TIMEOUT,
    )
    assert read.id == created.id
    assert plain(read.properties)["concurrency_limit"] == 7

    stub.Delete(
        provider_pb2.DeleteRequest(id=created.id, urn=POOL_URN, properties=wire(state)),
        timeout=TIMEOUT,
    )
    with pytest.raises(ObjectNotFound):
        client.read_work_pool(unique_name)


def update_in_place(
    stub: provider_pb2_grpc.ResourceProviderStub,
    urn: str,
    id_: str,
    state: dict[str, Any],
    news: dict[str, Any],
) -> dict[str, Any]:
    """Diff (it must be an in-place change), then Update, as the engine does; the new state."""
    diff = stub.Diff(
        provider_pb2.DiffRequest(id=id_, urn=urn, olds=wire(state), news=wire(news)),
        timeout=TIMEOUT,
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    updated = stub.Update(
        provider_pb2.UpdateRequest(id=id_, urn=urn, olds=wire(state), news=wire(news)),
        timeout=TIMEOUT,
    )
    return plain(updated.properties)
