"""The credentials-block resource's provider, called directly against a real Prefect server.

Every request goes through a recording proxy, so "no write" means no write on the wire.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from packaging.version import InvalidVersion, Version
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import BlockDocumentCreate, BlockDocumentUpdate
from prefect.exceptions import ObjectNotFound

from pushpools.components.prefect.blocks import BlockProvider, data_hash
from pushpools.components.prefect.client import PrefectError
from tests.prefect_server import LoopbackProxy, PrefectServer

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def aws_data(secret: str = SECRET) -> dict[str, Any]:
    return {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": secret}


def block_props(api_url: str, name: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "api_key": None,
        "auth_string": None,
        "type_slug": "aws-credentials",
        "name": name,
        "data": data,
        "adopt_existing": False,
        **extra,
    }


@pytest.fixture
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture
def client(prefect_server: PrefectServer) -> Iterator[SyncPrefectClient]:
    """Prefect's own client, straight to the server: the test's view of what Prefect holds."""
    with SyncPrefectClient(prefect_server.api_url) as client:
        yield client


def test_create_registers_the_data_and_state_holds_no_copy_of_it(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)

    assert created.id == f"aws-credentials/{unique_name}"
    outs = created.outs or {}
    assert "data" not in outs
    assert SECRET not in json.dumps(outs)
    assert outs["data_hash"] == data_hash(outs["block_document_id"], aws_data())
    assert [(s.method, s.path) for s in proxy.writes()] == [("POST", "/api/block_documents/")]

    # Read back as the UI and the API show it: the secret masked, the rest as sent.
    masked = client.read_block_document(outs["block_document_id"], include_secrets=False)
    assert masked.name == unique_name
    assert masked.data["aws_secret_access_key"] == "********"
    assert masked.data["aws_access_key_id"] == "AKIAIOSFODNN7EXAMPLE"
    full = client.read_block_document(outs["block_document_id"], include_secrets=True)
    assert full.data == aws_data()

    # A refresh reads the same block and the same data back.
    read = BlockProvider().read(created.id, {**props, **outs})
    assert read.id == created.id
    assert (read.outs or {})["data_hash"] == outs["data_hash"]


def test_the_schema_is_the_highest_version_not_the_most_recently_registered(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    block_type = client.read_block_type_by_slug("aws-credentials")
    schemas = [s for s in client.read_block_schemas() if s.block_type_id == block_type.id]
    most_recent = client.get_most_recent_block_schema_for_block_type(block_type.id)
    assert most_recent is not None

    def version(text: str) -> Version:
        try:
            return Version(text)
        except InvalidVersion:
            return Version("0")

    highest = max(schemas, key=lambda s: version(s.version))
    # The trap is real on this server: "most recent" is an older integration's schema.
    assert version(most_recent.version) < version(highest.version)

    outs = BlockProvider().create(block_props(proxy.api_url, unique_name, aws_data())).outs or {}
    assert outs["block_schema_version"] == highest.version
    assert outs["block_schema_checksum"] == highest.checksum
    stored = client.read_block_document(outs["block_document_id"], include_secrets=False)
    assert stored.block_schema_id == highest.id


def test_an_unchanged_block_is_never_written(proxy: LoopbackProxy, unique_name: str) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}
    proxy.reset()

    diff = BlockProvider().diff(created.id, state, props)
    # Were the engine to call update anyway (e.g. `pulumi up --refresh`), it writes nothing.
    updated = BlockProvider().update(created.id, state, props)

    assert diff.changes is False
    assert proxy.writes() == []
    assert [s.method for s in proxy.seen] == ["GET"] * len(proxy.seen)
    assert (updated.outs or {})["block_document_id"] == state["block_document_id"]


def test_new_data_is_an_update_in_place(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, {**aws_data(), "region_name": "eu-west-1"})
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}
    rotated = {**props, "data": aws_data(secret="rotated-" + SECRET)}  # and no region any more

    diff = BlockProvider().diff(created.id, state, rotated)
    assert diff.changes is True
    assert not diff.replaces
    proxy.reset()
    updated = BlockProvider().update(created.id, state, rotated).outs or {}

    assert updated["block_document_id"] == state["block_document_id"]
    assert [(s.method, s.path.rsplit("/", 1)[0]) for s in proxy.writes()] == [
        ("PATCH", "/api/block_documents")
    ]
    stored = client.read_block_document(updated["block_document_id"], include_secrets=True)
    assert stored.data == aws_data(secret="rotated-" + SECRET)  # replaced, not merged
    assert updated["data_hash"] == data_hash(updated["block_document_id"], rotated["data"])


def test_a_new_name_type_or_endpoint_replaces_the_block(
    proxy: LoopbackProxy, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}

    renamed = BlockProvider().diff(created.id, state, {**props, "name": unique_name + "-2"})
    assert renamed.replaces == ["name"]
    assert renamed.delete_before_replace is False  # the new one can exist next to the old

    moved = BlockProvider().diff(created.id, state, {**props, "api_url": "http://127.0.0.1:1/api"})
    assert moved.replaces == ["api_url"]
    # Same name, maybe the same server: the old one must go before the new one is made.
    assert moved.delete_before_replace is True

    trailing_slash = BlockProvider().diff(
        created.id, state, {**props, "api_url": proxy.api_url + "/"}
    )
    assert not trailing_slash.replaces
    assert trailing_slash.changes is False


def test_a_block_deleted_out_of_band_is_recreated(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}
    client.delete_block_document(state["block_document_id"])  # someone, in the Prefect UI

    refreshed = BlockProvider().read(created.id, state)
    assert not refreshed.id  # `pulumi refresh` drops it from state
    assert BlockProvider().diff(created.id, state, props).changes is True  # plain `pulumi up`
    recreated = BlockProvider().update(created.id, state, props).outs or {}

    assert recreated["block_document_id"] != state["block_document_id"]
    stored = client.read_block_document_by_name(unique_name, "aws-credentials")
    assert str(stored.id) == recreated["block_document_id"]


def test_data_changed_out_of_band_is_restored(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}
    client.update_block_document(
        state["block_document_id"],
        BlockDocumentUpdate(data={"aws_secret_access_key": "typed-in-the-ui"}),
    )

    refreshed = BlockProvider().read(created.id, state).outs or {}
    assert refreshed["data_hash"] != state["data_hash"]  # refresh sees the drift
    assert BlockProvider().diff(created.id, state, props).changes is True  # and so does up
    BlockProvider().update(created.id, state, props)

    stored = client.read_block_document(state["block_document_id"], include_secrets=True)
    assert stored.data == aws_data()


def test_an_existing_name_is_a_clear_error_that_says_how_to_adopt(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    theirs = _create_directly(client, unique_name, {"aws_access_key_id": "THEIRS"})
    props = block_props(proxy.api_url, unique_name, aws_data())

    with pytest.raises(PrefectError) as caught:
        BlockProvider().create(props)

    message = str(caught.value)
    assert caught.value.status_code == 409
    assert f"aws-credentials block named {unique_name!r} already exists" in message
    assert "adopt_existing: true" in message
    assert "pushpools:pools[].prefect.adopt_existing" in message
    assert SECRET not in message
    untouched = client.read_block_document(theirs, include_secrets=True)
    assert untouched.data == {"aws_access_key_id": "THEIRS"}


def test_adopting_takes_the_block_over_with_our_data(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    theirs = _create_directly(client, unique_name, {"aws_access_key_id": "THEIRS"})
    props = block_props(proxy.api_url, unique_name, aws_data(), adopt_existing=True)

    outs = BlockProvider().create(props).outs or {}

    assert outs["block_document_id"] == str(theirs)
    assert client.read_block_document(theirs, include_secrets=True).data == aws_data()
    BlockProvider().delete(f"aws-credentials/{unique_name}", {**props, **outs})
    with pytest.raises(ObjectNotFound):
        client.read_block_document(theirs)


def test_delete_removes_the_block_and_a_second_delete_is_fine(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str
) -> None:
    props = block_props(proxy.api_url, unique_name, aws_data())
    created = BlockProvider().create(props)
    state = {**props, **(created.outs or {})}

    BlockProvider().delete(created.id, state)
    BlockProvider().delete(created.id, state)  # gone already: not an error

    with pytest.raises(ObjectNotFound):
        client.read_block_document(state["block_document_id"])


def test_an_error_echoing_the_request_never_carries_the_data(
    prefect_server: PrefectServer, unique_name: str
) -> None:
    """A 422 whose body quotes the request back: neither the message nor the traceback
    the provider process would hand the engine contains the secret."""

    def reject_blocks(method: str, path: str) -> int | None:
        return 422 if method == "POST" and path == "/api/block_documents/" else None

    with LoopbackProxy(prefect_server.api_url, fault=reject_blocks, echo_body=True) as proxy:
        with pytest.raises(PrefectError) as caught:
            BlockProvider().create(block_props(proxy.api_url, unique_name, aws_data()))
        assert proxy.echoed, "the proxy should have quoted the request back"

    assert "422" in str(caught.value)
    assert "body.data" in str(caught.value)  # where the problem is, still said
    assert SECRET not in str(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def _create_directly(client: SyncPrefectClient, name: str, data: dict[str, Any]) -> Any:
    block_type = client.read_block_type_by_slug("aws-credentials")
    schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
    assert schema is not None
    return client.create_block_document(
        BlockDocumentCreate(
            name=name, block_type_id=block_type.id, block_schema_id=schema.id, data=data
        )
    ).id
