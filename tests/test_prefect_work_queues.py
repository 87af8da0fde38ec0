"""The work-queue resource's provider, called directly against a real Prefect server.

Each test makes its own `ecs` pool (with Prefect's own `default` queue). Every request
goes through a recording proxy, so "no write" means no write on the wire.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound

from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.work_queues import WorkQueueProvider
from tests.prefect_server import LoopbackProxy, PrefectServer


@pytest.fixture
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture
def client(prefect_server: PrefectServer) -> Iterator[SyncPrefectClient]:
    with SyncPrefectClient(prefect_server.api_url) as client:
        yield client


@pytest.fixture
def pool(client: SyncPrefectClient, unique_name: str) -> str:
    # The server is the session's: other modules' tests of the same name make pools too.
    name = "q" + unique_name
    client.create_work_pool(WorkPoolCreate(name=name, type="ecs"))
    return name


def queue_props(api_url: str, client: SyncPrefectClient, pool: str, **extra: Any) -> dict:
    return {
        "api_url": api_url,
        "api_key": None,
        "auth_string": None,
        "name": "critical",
        "work_pool_name": pool,
        "work_pool_id": str(client.read_work_pool(pool).id),
        "description": "Runs that page someone",
        "priority": 1,
        "concurrency_limit": 5,
        "paused": False,
        "adopt_existing": False,
        **extra,
    }


def created(props: dict[str, Any]) -> dict[str, Any]:
    """Create a queue; return its state as the engine would keep it (inputs and outputs)."""
    result = WorkQueueProvider().create(props)
    assert result.id == f"{props['work_pool_name']}/{props['name']}"
    return {**props, **(result.outs or {})}


def queues(client: SyncPrefectClient, pool: str) -> dict[str, Any]:
    return {q.name: q for q in client.read_work_queues(work_pool_name=pool)}


def test_create_makes_the_queue_in_its_pool_with_every_setting(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    state = created(queue_props(proxy.api_url, client, pool))

    queue = queues(client, pool)["critical"]
    assert str(queue.id) == state["queue_id"]
    assert queue.priority == 1
    assert queue.concurrency_limit == 5
    assert queue.description == "Runs that page someone"
    assert queue.is_paused is False
    assert [(s.method, s.path) for s in proxy.writes()] == [
        ("POST", f"/api/work_pools/{pool}/queues")
    ]


def test_the_default_queue_is_adopted_and_managed_never_duplicated(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    default_id = client.read_work_pool(pool).default_queue_id
    props = queue_props(
        proxy.api_url,
        client,
        pool,
        name="default",
        priority=None,
        concurrency_limit=2,
        description=None,
        paused=True,
    )

    state = created(props)

    assert state["queue_id"] == str(default_id)
    assert list(queues(client, pool)) == ["default"]  # no second queue
    live = queues(client, pool)["default"]
    assert (live.concurrency_limit, live.is_paused) == (2, True)
    # Unset description and priority stay Prefect's.
    assert live.description == "The work pool's default queue."
    assert live.priority == 1
    assert [s.method for s in proxy.writes()] == ["PATCH"]


def test_an_unchanged_queue_is_never_written(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool)
    state = created(props)
    proxy.reset()

    diff = WorkQueueProvider().diff("id", state, copy.deepcopy(props))
    outs = WorkQueueProvider().update("id", state, copy.deepcopy(props)).outs or {}

    assert diff.changes is False
    assert proxy.writes() == []
    assert outs["queue_id"] == state["queue_id"]


def test_settings_update_in_place_with_one_patch(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool)
    state = created(props)
    changed = {**props, "priority": 2, "concurrency_limit": None, "paused": True}

    diff = WorkQueueProvider().diff("id", state, changed)
    assert diff.changes is True
    assert not diff.replaces
    proxy.reset()
    WorkQueueProvider().update("id", state, changed)

    queue = queues(client, pool)["critical"]
    assert str(queue.id) == state["queue_id"]
    assert (queue.priority, queue.concurrency_limit, queue.is_paused) == (2, None, True)
    assert [(s.method, s.path) for s in proxy.writes()] == [
        ("PATCH", f"/api/work_queues/{state['queue_id']}")
    ]


def test_a_queue_changed_in_the_ui_is_drift_and_is_restored(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool)
    state = created(props)
    client.update_work_queue(
        queues(client, pool)["critical"].id, concurrency_limit=50, is_paused=True
    )

    refreshed = WorkQueueProvider().read("id", state).outs or {}
    assert refreshed["live_concurrency_limit"] == 50  # refresh records the drift
    assert WorkQueueProvider().diff("id", state, props).changes is True  # without refresh
    assert WorkQueueProvider().diff("id", refreshed, props).changes is True
    WorkQueueProvider().update("id", refreshed, props)

    queue = queues(client, pool)["critical"]
    assert (queue.concurrency_limit, queue.is_paused) == (5, False)


def test_a_queue_deleted_out_of_band_is_recreated(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool)
    state = created(props)
    client.delete_work_queue_by_id(queues(client, pool)["critical"].id)

    assert not WorkQueueProvider().read("id", state).id  # refresh drops it
    assert WorkQueueProvider().diff("id", state, props).changes is True
    outs = WorkQueueProvider().update("id", state, props).outs or {}

    assert str(queues(client, pool)["critical"].id) == outs["queue_id"] != state["queue_id"]


def test_a_new_name_or_a_replaced_pool_replaces_the_queue(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool)
    state = created(props)

    assert WorkQueueProvider().diff("id", state, {**props, "name": "urgent"}).replaces == ["name"]
    other_pool = {**props, "work_pool_id": "00000000-0000-4000-8000-000000000000"}
    assert WorkQueueProvider().diff("id", state, other_pool).replaces == ["work_pool_id"]


def test_an_existing_queue_is_a_clear_error_unless_adopted(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    theirs = client.create_work_queue(name="critical", work_pool_name=pool, priority=3)
    props = queue_props(proxy.api_url, client, pool)

    with pytest.raises(PrefectError) as caught:
        WorkQueueProvider().create(props)
    assert caught.value.status_code == 409
    assert "adopt_existing: true" in str(caught.value)
    assert queues(client, pool)["critical"].priority == 3  # untouched

    state = created({**props, "adopt_existing": True})
    assert state["queue_id"] == str(theirs.id)
    assert queues(client, pool)["critical"].priority == 1


def test_delete_removes_the_queue_but_leaves_the_default_to_its_pool(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    critical = created(queue_props(proxy.api_url, client, pool))
    default = created(queue_props(proxy.api_url, client, pool, name="default", priority=None))

    WorkQueueProvider().delete("id", critical)
    WorkQueueProvider().delete("id", default)
    WorkQueueProvider().delete("id", critical)  # already gone: nothing to do

    assert list(queues(client, pool)) == ["default"]
    with pytest.raises(ObjectNotFound):
        client.read_work_queue_by_name("critical", work_pool_name=pool)


def test_numbers_arrive_as_floats_from_the_engine_and_reach_prefect_as_integers(
    proxy: LoopbackProxy, client: SyncPrefectClient, pool: str
) -> None:
    props = queue_props(proxy.api_url, client, pool, priority=2.0, concurrency_limit=7.0)
    state = created(props)

    assert WorkQueueProvider().diff("id", state, props).changes is False
    queue = queues(client, pool)["critical"]
    assert (queue.priority, queue.concurrency_limit) == (2, 7)
