"""A work queue of a Prefect work pool as a Pulumi resource.

Queues are how a pool prioritises (lower priority runs first) and limits its flow runs.
Every pool comes with a queue named `default`, made by Prefect with the pool: a queue of
that name is adopted and managed, never duplicated, and never deleted (Prefect refuses to
delete a pool's default queue; it goes with the pool).

Lifecycle, as the provider implements it:

- create: create the queue in its pool; `default`, or an existing queue when
  `adopt_existing` is set, is taken over and updated instead. An existing queue otherwise
  is an error that says how to adopt it.
- diff: replace when the name, the pool or the Prefect endpoint changes; update when any
  other input changes; otherwise read the live queue and report drift (deleted, or
  changed in the UI) as an update. Reads only.
- update: recreate a queue deleted out of band; PATCH only the fields that differ.
- read (refresh): the live queue, or gone.
- delete: delete the queue (not `default`), unless it is no longer the one we manage.

Unset `priority` and `description` are Prefect's to choose and are not compared; an unset
`concurrency_limit` means no limit and is enforced like any other value.

Priorities are unique within a pool: Prefect moves the queue holding a priority that
another queue takes down by one. The wiring declares a pool's queues in ascending
priority, each after the previous, so that no queue is moved after it was set.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from pushpools.components.prefect.client import PrefectError, call_prefect
from pushpools.components.prefect.common import (
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
    from prefect.client.schemas.objects import WorkQueue

DEFAULT_QUEUE = "default"
"""The queue Prefect makes with every pool."""

INPUTS = (
    "name",
    "work_pool_name",
    "work_pool_id",
    "description",
    "priority",
    "concurrency_limit",
    "paused",
    "adopt_existing",
)
COMPUTED = (
    "queue_id",
    "live_description",
    "live_priority",
    "live_concurrency_limit",
    "live_paused",
)
# Inputs whose change is another queue: a queue belongs to one pool for life.
REPLACING = ("name", "work_pool_name")
# Our field -> the API's; `optional` fields left unset are Prefect's to choose.
_API_FIELDS = {
    "description": "description",
    "priority": "priority",
    "concurrency_limit": "concurrency_limit",
    "paused": "is_paused",
}
_OPTIONAL = ("description", "priority")


class WorkQueueProvider(ResourceProvider):
    """Create, read, diff, update and delete one work queue of a work pool."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        outs = call_prefect(connection, lambda client: _create(client, connection, props))
        return CreateResult(queue_resource_id(props["work_pool_name"], props["name"]), outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        live = call_prefect(connection, lambda client: _read_ours(client, props))
        if live is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        return ReadResult(id_, {**_public(props), **_observed(live)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        olds, news = engine_values(olds), engine_values(news)
        replaces = [k for k in REPLACING if olds.get(k) != news.get(k)]
        if endpoint_changed(olds, news):
            replaces.append("api_url")
        pool_id = news.get("work_pool_id")
        if not has_unknowns(pool_id) and pool_id and pool_id != olds.get("work_pool_id"):
            replaces.append("work_pool_id")  # the pool was replaced: its queues went with it
        if replaces:
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=True)
        if has_unknowns({k: news.get(k) for k in INPUTS}) or credentials_changed(olds, news):
            return DiffResult(changes=True)
        if _differences(news, _observed_fields(olds)):
            return DiffResult(changes=True)
        connection = Connection.from_props(news)
        live = call_prefect(connection, lambda client: _read_ours(client, olds))
        return DiffResult(changes=live is None or bool(_differences(news, _live_fields(live))))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, news = engine_values(olds), engine_values(news)
        connection = Connection.from_props(news)
        outs = call_prefect(connection, lambda client: _update(client, connection, olds, news))
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = engine_values(props)
        connection = Connection.from_props(props)
        call_prefect(connection, lambda client: _delete(client, props))


class PrefectWorkQueue(Resource, module="prefect", name="WorkQueue"):
    """A work queue of a Prefect work pool: its priority, concurrency limit and pause."""

    queue_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        connection: ConnectionArgs,
        name: str,
        work_pool_name: str,
        work_pool_id: pulumi.Input[str],
        description: str | None = None,
        priority: int | None = None,
        concurrency_limit: int | None = None,
        paused: bool = False,
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`work_pool_id` (the pool resource's `pool_id`) ties the queue to that very
        pool: a replaced pool replaces its queues."""
        props: dict[str, Any] = {
            **connection.as_props(),
            "name": name,
            "work_pool_name": work_pool_name,
            "work_pool_id": work_pool_id,
            "description": description,
            "priority": priority,
            "concurrency_limit": concurrency_limit,
            "paused": paused,
            "adopt_existing": adopt_existing,
            **dict.fromkeys(COMPUTED),
        }
        super().__init__(WorkQueueProvider(), resource_name, props, prefect_object_options(opts))


def queue_resource_id(work_pool_name: str, name: str) -> str:
    return f"{work_pool_name}/{name}"


def _create(
    client: SyncPrefectClient, connection: Connection, props: dict[str, Any]
) -> dict[str, Any]:
    from prefect.exceptions import ObjectAlreadyExists

    name, pool = props["name"], props["work_pool_name"]
    if name == DEFAULT_QUEUE:
        return {**_public(props), **_observed(_patch(client, _by_name(client, props), props))}
    try:
        queue = client.create_work_queue(
            name=name,
            work_pool_name=pool,
            description=props.get("description"),
            priority=props.get("priority"),
            concurrency_limit=props.get("concurrency_limit"),
            is_paused=bool(props.get("paused")),
        )
    except ObjectAlreadyExists:
        if not props.get("adopt_existing"):
            raise PrefectError(
                f"the work pool {pool!r} already has a work queue named {name!r} in Prefect "
                f"at {display_url(connection.api_url)}, and pushpools does not take over "
                "objects it did not create unless told to. To manage it from now on (its "
                "settings are replaced with this stack's; `pulumi destroy` deletes it), set "
                "`adopt_existing: true` in the pool's `prefect` section "
                "(pushpools:pools[].prefect.adopt_existing); or give the queue another name",
                409,
            ) from None
        queue = _patch(client, _by_name(client, props), props)
    return {**_public(props), **_observed(queue)}


def _by_name(client: SyncPrefectClient, props: dict[str, Any]) -> WorkQueue:
    return client.read_work_queue_by_name(props["name"], work_pool_name=props["work_pool_name"])


def _update(
    client: SyncPrefectClient,
    connection: Connection,
    olds: dict[str, Any],
    news: dict[str, Any],
) -> dict[str, Any]:
    live = _read_ours(client, olds)
    if live is None:  # deleted out of band: put ours back
        return _create(client, connection, news)
    return {**_public(news), **_observed(_patch(client, live, news))}


def _patch(client: SyncPrefectClient, live: WorkQueue, props: dict[str, Any]) -> WorkQueue:
    """Send only the fields that differ; nothing at all when none does."""
    changed = _differences(props, _live_fields(live))
    if not changed:
        return live
    client.update_work_queue(live.id, **{_API_FIELDS[k]: _desired(props)[k] for k in changed})
    return client.read_work_queue(live.id)


def _desired(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": props.get("description"),
        "priority": props.get("priority"),
        "concurrency_limit": props.get("concurrency_limit"),
        "paused": bool(props.get("paused")),
    }


def _differences(props: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    desired = _desired(props)
    return [
        k
        for k in _API_FIELDS
        if not (k in _OPTIONAL and desired[k] is None) and desired[k] != actual.get(k)
    ]


def _live_fields(queue: WorkQueue) -> dict[str, Any]:
    return {
        "description": queue.description,
        "priority": queue.priority,
        "concurrency_limit": queue.concurrency_limit,
        "paused": bool(queue.is_paused),
    }


def _observed_fields(outs: dict[str, Any]) -> dict[str, Any]:
    return {k: outs.get(f"live_{k}") for k in _API_FIELDS}


def _read_ours(client: SyncPrefectClient, props: dict[str, Any]) -> WorkQueue | None:
    """The live queue we manage (by its ID), or None when it is gone."""
    from prefect.exceptions import ObjectNotFound

    if not props.get("queue_id"):
        return None
    try:
        return client.read_work_queue(UUID(props["queue_id"]))
    except ObjectNotFound:
        return None


def _delete(client: SyncPrefectClient, props: dict[str, Any]) -> None:
    from prefect.exceptions import ObjectNotFound

    if props["name"] == DEFAULT_QUEUE or _read_ours(client, props) is None:
        # The default queue lives and dies with its pool; one already gone is the goal.
        return
    with contextlib.suppress(ObjectNotFound):
        client.delete_work_queue_by_id(UUID(props["queue_id"]))


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {**connection_outputs(props), **{k: props.get(k) for k in INPUTS}}


def _observed(queue: WorkQueue) -> dict[str, Any]:
    """What state records of the live queue: its ID and its fields as Prefect holds them
    (under `live_`, since an unset input is not what Prefect chose for it)."""
    return {
        "queue_id": str(queue.id),
        **{f"live_{k}": v for k, v in _live_fields(queue).items()},
    }
