"""A Prefect block document (a credentials block) as a Pulumi resource.

Lifecycle, as the provider implements it:

- create: pick the block schema deliberately (the highest version whose fields hold the
  data), then create the document. A block of the same name already there is an error
  that says how to adopt it, unless `adopt_existing` is set: then it is taken over and
  its data replaced with ours.
- diff: replace when the type, the name or the Prefect endpoint changes; update when the
  data or the credentials change; otherwise read the live block and report drift (deleted,
  or its data changed in the UI) as an update. Reads only: no change, no write.
- update: recreate a block deleted out of band; rewrite data that differs; nothing else.
- read (refresh): the live block, or gone.
- delete: delete the document; already gone is fine.

The data is a secret input. State keeps no second copy of it: the provider records a
salted SHA-256 of it (`data_hash`) and compares the live data, read with secrets
included, against that. The document's contents are high-entropy key material, so the
hash reveals nothing useful.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from pushpools.components.prefect.client import PrefectError, call_prefect, secret_strings
from pushpools.components.prefect.common import (
    SECRET_CONNECTION_PROPS,
    ConnectionArgs,
    connection_outputs,
    credentials_changed,
    endpoint_changed,
    engine_values,
    has_unknowns,
    prefect_object_options,
)
from pushpools.components.prefect.connection import Connection, display_url

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import BlockDocument, BlockSchema

COMPUTED = (
    "block_document_id",
    "block_type_id",
    "block_schema_id",
    "block_schema_checksum",
    "block_schema_version",
    "data_hash",
)


def block_id(type_slug: str, name: str) -> str:
    """The resource ID: a block's name is unique within its type."""
    return f"{type_slug}/{name}"


def data_hash(block_document_id: str, data: Any) -> str:
    """A salted digest of block data, so that state can tell changed data without a copy."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"pushpools-block:{block_document_id}:{canonical}".encode()).hexdigest()


class BlockProvider(ResourceProvider):
    """Create, read, diff, update and delete one block document."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        outs = call_prefect(
            connection,
            lambda client: _create(client, connection, props),
            secrets=secret_strings(props.get("data")),
        )
        return CreateResult(block_id(props["type_slug"], props["name"]), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        live = call_prefect(
            connection, lambda client: _read_live(client, props.get("block_document_id"))
        )
        if live is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        return ReadResult(id_, {**_public(props), **_observed(live, live.block_schema, live.data)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        olds, news = engine_values(olds), engine_values(news)
        replaces = [k for k in ("type_slug", "name") if olds.get(k) != news.get(k)]
        if endpoint_changed(olds, news):
            replaces.append("api_url")
        if replaces:
            # Same name at the same place: the old one must go first (names are unique).
            same_name = "type_slug" not in replaces and "name" not in replaces
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=same_name)
        data = news.get("data")
        if has_unknowns(data) or credentials_changed(olds, news):
            return DiffResult(changes=True)
        if data_hash(str(olds.get("block_document_id")), data) != olds.get("data_hash"):
            return DiffResult(changes=True)
        # Inputs unchanged: is the block in Prefect still the one we registered?
        connection = Connection.from_props(news)
        live = call_prefect(
            connection,
            lambda client: _read_live(client, olds.get("block_document_id")),
            secrets=secret_strings(data),
        )
        drifted = live is None or data_hash(str(live.id), live.data) != olds.get("data_hash")
        return DiffResult(changes=drifted)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, news = engine_values(olds), engine_values(news)
        connection = Connection.from_props(news)
        outs = call_prefect(
            connection,
            lambda client: _update(client, connection, olds, news),
            secrets=[*secret_strings(news.get("data")), *_old_secrets(olds)],
        )
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = engine_values(props)
        connection = Connection.from_props(props)
        call_prefect(connection, lambda client: _delete(client, props.get("block_document_id")))


class PrefectBlock(Resource, module="prefect", name="Block"):
    """A Prefect block document, e.g. the credentials block a work pool acts through."""

    block_document_id: pulumi.Output[str]
    """The document's ID: what a base job template's `$ref` points at."""
    block_schema_checksum: pulumi.Output[str]
    """The schema the document was written with (chosen by version, not recency)."""
    block_schema_version: pulumi.Output[str]
    data_hash: pulumi.Output[str]
    """Salted SHA-256 of the data as last written or read; never the data itself."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: ConnectionArgs,
        type_slug: str,
        name: str,
        data: pulumi.Input[dict[str, Any]],
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`data` is always made a secret; `adopt_existing` takes over a block of the same
        name (and type) instead of failing on it."""
        props: dict[str, Any] = {
            **connection.as_props(),
            "type_slug": type_slug,
            "name": name,
            "data": pulumi.Output.secret(data),
            "adopt_existing": adopt_existing,
            **dict.fromkeys(COMPUTED),
        }
        super().__init__(BlockProvider(), resource_name, props, prefect_object_options(opts))


def _create(
    client: SyncPrefectClient, connection: Connection, props: dict[str, Any]
) -> dict[str, Any]:
    from prefect.client.schemas.actions import BlockDocumentCreate
    from prefect.exceptions import ObjectAlreadyExists

    type_slug, name, data = props["type_slug"], props["name"], props["data"]
    block_type_id = _block_type_id(client, connection, type_slug)
    schema = choose_schema(client, block_type_id, type_slug, data)
    try:
        document = client.create_block_document(
            BlockDocumentCreate(
                name=name, block_type_id=block_type_id, block_schema_id=schema.id, data=data
            )
        )
    except ObjectAlreadyExists:
        if not props.get("adopt_existing"):
            raise PrefectError(
                f"a {type_slug} block named {name!r} already exists in Prefect at "
                f"{display_url(connection.api_url)}, and pushpools does not take over objects "
                "it did not create unless told to. To manage it from now on (its data is "
                "replaced with this stack's; `pulumi destroy` deletes it), set "
                "`adopt_existing: true` in the pool's `prefect` section "
                "(pushpools:pools[].prefect.adopt_existing); or give the block another name "
                "(pushpools:pools[].credentials_block_name)",
                409,
            ) from None
        document = client.read_block_document_by_name(name, type_slug, include_secrets=True)
        _write_data(client, document, schema, data)
    # The server answers with secret fields masked; what it holds is what we sent.
    return {**_public(props), **_observed(document, schema, data)}


def _update(
    client: SyncPrefectClient,
    connection: Connection,
    olds: dict[str, Any],
    news: dict[str, Any],
) -> dict[str, Any]:
    live = _read_live(client, olds.get("block_document_id"))
    if live is None:  # deleted out of band: put it back
        return _create(client, connection, news)
    data = news["data"]
    schema = _current_schema(client, live, news["type_slug"], data)
    _write_data(client, live, schema, data)
    return {**_public(news), **_observed(live, schema, data)}


def _write_data(
    client: SyncPrefectClient, live: BlockDocument, schema: BlockSchema, data: dict[str, Any]
) -> None:
    """Make the document hold exactly `data` under `schema`; no request if it already does.

    `live` must have been read with secrets included, or every compare would differ.
    """
    from prefect.client.schemas.actions import BlockDocumentUpdate

    if live.block_schema_id == schema.id and live.data == data:
        return
    client.update_block_document(
        live.id,
        BlockDocumentUpdate(block_schema_id=schema.id, data=data, merge_existing_data=False),
    )


def _current_schema(
    client: SyncPrefectClient, live: BlockDocument, type_slug: str, data: dict[str, Any]
) -> BlockSchema:
    """Keep the document's schema while it still holds the data: no churn on upgrades."""
    if live.block_schema is not None and set(data) <= _fields(live.block_schema):
        return live.block_schema
    return choose_schema(client, live.block_type_id, type_slug, data)


def choose_schema(
    client: SyncPrefectClient, block_type_id: Any, type_slug: str, data: dict[str, Any]
) -> BlockSchema:
    """The highest-version schema of the type whose fields hold every key of `data`.

    A server holds several schema versions per block type (the integration installed next
    to it, a bundled older snapshot, unversioned ones); the most recently created is not
    the newest. Unparseable versions rank lowest; the checksum breaks ties.
    """
    from prefect.client.schemas.objects import BlockSchema

    response = client.request(
        "POST",
        "/block_schemas/filter",
        json={"block_schemas": {"block_type_id": {"any_": [str(block_type_id)]}}},
    )
    schemas = BlockSchema.model_validate_list(response.json())
    fitting = [s for s in schemas if set(data) <= _fields(s)]
    if not fitting:
        known = sorted({f for s in schemas for f in _fields(s)})
        raise PrefectError(
            f"no {type_slug} block schema at this Prefect holds the fields "
            f"{', '.join(sorted(data))}; its schemas have: {', '.join(known) or 'none'}"
        )
    return max(fitting, key=lambda s: (_version_rank(s.version), s.checksum))


def _version_rank(version: str) -> tuple[int, Any]:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, Version("0"))


def _fields(schema: BlockSchema) -> set[str]:
    return set((schema.fields or {}).get("properties", {}))


def _block_type_id(client: SyncPrefectClient, connection: Connection, type_slug: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_block_type_by_slug(type_slug).id
    except ObjectNotFound:
        cloud_only = (
            "" if connection.is_cloud else " (some block types exist in Prefect Cloud only)"
        )
        raise PrefectError(
            f"Prefect at {display_url(connection.api_url)} knows no block type "
            f"{type_slug!r}{cloud_only}",
            404,
        ) from None


def _read_live(client: SyncPrefectClient, block_document_id: Any) -> BlockDocument | None:
    from prefect.exceptions import ObjectNotFound

    if not block_document_id:
        return None
    try:
        return client.read_block_document(block_document_id, include_secrets=True)
    except ObjectNotFound:
        return None


def _delete(client: SyncPrefectClient, block_document_id: Any) -> None:
    from prefect.exceptions import ObjectNotFound

    if not block_document_id:
        return
    with contextlib.suppress(ObjectNotFound):  # already gone: the goal of a delete
        client.delete_block_document(block_document_id)


def _public(props: dict[str, Any]) -> dict[str, Any]:
    """The inputs echoed as outputs: everything but the data (state keeps its hash)."""
    return {
        **connection_outputs(props),
        "type_slug": props.get("type_slug"),
        "name": props.get("name"),
        "adopt_existing": bool(props.get("adopt_existing")),
    }


def _observed(
    document: BlockDocument, schema: BlockSchema | None, data: dict[str, Any]
) -> dict[str, Any]:
    """What state records of a document that holds `data` under `schema`."""
    return {
        "block_document_id": str(document.id),
        "block_type_id": str(document.block_type_id),
        "block_schema_id": str(document.block_schema_id if schema is None else schema.id),
        "block_schema_checksum": None if schema is None else schema.checksum,
        "block_schema_version": None if schema is None else schema.version,
        "data_hash": data_hash(str(document.id), data),
    }


def _old_secrets(olds: dict[str, Any]) -> list[str]:
    return [str(olds[k]) for k in SECRET_CONNECTION_PROPS if olds.get(k)]
