"""The work-pool resource's provider, called directly against a real Prefect server.

An `ecs` pool (the worker type a self-hosted server serves; push pools expose the same
variables) wired to an `aws-credentials` block. Every request goes through a recording
proxy, so "no write" means no write on the wire.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.exceptions import ObjectNotFound

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.work_pools import WorkPoolProvider
from tests.prefect_server import LoopbackProxy, PrefectServer

DEFAULTS = {
    "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prefect-ecs-cluster",
    "execution_role_arn": "arn:aws:iam::123456789012:role/PrefectEcsTaskExecutionRole",
    "vpc_id": "vpc-0a1b2c3d",
    "launch_type": "FARGATE",
}


@pytest.fixture
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture
def client(prefect_server: PrefectServer) -> Iterator[SyncPrefectClient]:
    with SyncPrefectClient(prefect_server.api_url) as client:
        yield client


@pytest.fixture
def block_id(prefect_server: PrefectServer, unique_name: str) -> str:
    """An aws-credentials block for the pool to reference, made by our block provider."""
    outs = (
        BlockProvider()
        .create(
            {
                "api_url": prefect_server.api_url,
                "type_slug": "aws-credentials",
                "name": unique_name + "-creds",
                "data": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "s3cret"},
            }
        )
        .outs
    )
    return (outs or {})["block_document_id"]


def pool_props(api_url: str, name: str, block_id: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "api_key": None,
        "auth_string": None,
        "name": name,
        "type": "ecs",
        "description": "Flow runs on ECS",
        "concurrency_limit": None,
        "paused": False,
        "template_defaults": DEFAULTS,
        "credentials_variable": "aws_credentials",
        "block_document_id": block_id,
        "base_template": None,
        "adopt_existing": False,
        **extra,
    }


def created(props: dict[str, Any]) -> dict[str, Any]:
    """Create a pool; return its state as the engine would keep it (inputs and outputs)."""
    result = WorkPoolProvider().create(props)
    assert result.id == props["name"]
    return {**props, **(result.outs or {})}


def variables(pool_or_template: Any) -> dict[str, Any]:
    template = getattr(pool_or_template, "base_job_template", pool_or_template)
    return template["variables"]["properties"]


def test_create_wires_the_block_and_the_defaults_into_the_servers_own_template(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    state = created(pool_props(proxy.api_url, unique_name, block_id, concurrency_limit=4))

    pool = client.read_work_pool(unique_name)
    assert str(pool.id) == state["pool_id"]
    assert pool.type == "ecs"
    assert pool.description == "Flow runs on ECS"
    assert pool.concurrency_limit == 4
    assert variables(pool)["aws_credentials"]["default"] == {
        "$ref": {"block_document_id": block_id}
    }
    for name, value in DEFAULTS.items():
        assert variables(pool)[name]["default"] == value
    # Everything else is the ECS template as this server serves it, untouched.
    served = client.request(
        "GET", "/collections/views/{view}", path_params={"view": "aggregate-worker-metadata"}
    ).json()["prefect-aws"]["ecs"]["default_base_job_configuration"]
    assert pool.base_job_template["job_configuration"] == served["job_configuration"]
    assert set(variables(pool)) == set(variables(served))
    assert state["base_job_template"] == pool.base_job_template
    assert [(s.method, s.path) for s in proxy.writes()] == [("POST", "/api/work_pools/")]


def test_the_server_itself_refuses_a_reference_to_a_missing_block(
    proxy: LoopbackProxy, unique_name: str
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(PrefectError) as caught:
        WorkPoolProvider().create(pool_props(proxy.api_url, unique_name, missing))
    assert caught.value.status_code == 404
    assert "Block not found" in str(caught.value)


def test_an_unchanged_pool_is_never_written_and_renders_the_same_template(
    proxy: LoopbackProxy, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)
    proxy.reset()

    diff = WorkPoolProvider().diff(unique_name, state, copy.deepcopy(props))
    updated = WorkPoolProvider().update(unique_name, state, copy.deepcopy(props)).outs or {}

    assert diff.changes is False
    assert proxy.writes() == []
    assert updated["base_job_template"] == state["base_job_template"]
    assert updated["pool_id"] == state["pool_id"]


def test_settings_and_defaults_update_in_place_with_one_patch(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id, concurrency_limit=3)
    state = created(props)
    changed = {
        **props,
        "description": "Nightly batch on ECS",
        "concurrency_limit": None,  # no limit any more
        "paused": True,
        "template_defaults": {**DEFAULTS, "cluster": "arn:aws:ecs:eu-west-1:1:cluster/other"},
    }

    diff = WorkPoolProvider().diff(unique_name, state, changed)
    assert diff.changes is True
    assert not diff.replaces
    proxy.reset()
    outs = WorkPoolProvider().update(unique_name, state, changed).outs or {}

    assert [(s.method, s.path) for s in proxy.writes()] == [
        ("PATCH", f"/api/work_pools/{unique_name}")
    ]
    pool = client.read_work_pool(unique_name)
    assert str(pool.id) == state["pool_id"]  # the same pool, updated in place
    assert pool.description == "Nightly batch on ECS"
    assert pool.concurrency_limit is None
    assert pool.is_paused is True
    assert variables(pool)["cluster"]["default"] == "arn:aws:ecs:eu-west-1:1:cluster/other"
    assert variables(pool)["aws_credentials"]["default"] == {
        "$ref": {"block_document_id": block_id}
    }
    assert outs["paused"] is True


def test_a_new_name_or_type_replaces_the_pool(
    proxy: LoopbackProxy, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)

    renamed = WorkPoolProvider().diff(unique_name, state, {**props, "name": unique_name + "-2"})
    assert renamed.replaces == ["name"]
    assert renamed.delete_before_replace is False

    retyped = WorkPoolProvider().diff(unique_name, state, {**props, "type": "cloud-run"})
    assert retyped.replaces == ["type"]
    # Prefect cannot change a type, and the name stays: the old pool goes first.
    assert retyped.delete_before_replace is True


def test_a_pool_deleted_out_of_band_is_recreated(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)
    client.delete_work_pool(unique_name)

    assert not WorkPoolProvider().read(unique_name, state).id  # refresh drops it
    assert WorkPoolProvider().diff(unique_name, state, props).changes is True  # up sees it
    outs = WorkPoolProvider().update(unique_name, state, props).outs or {}

    pool = client.read_work_pool(unique_name)
    assert str(pool.id) == outs["pool_id"] != state["pool_id"]
    assert variables(pool)["aws_credentials"]["default"] == {
        "$ref": {"block_document_id": block_id}
    }


def test_a_pool_changed_out_of_band_is_restored(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)
    edited = copy.deepcopy(state["base_job_template"])
    edited["variables"]["properties"]["cluster"]["default"] = "typed-in-the-ui"
    client.update_work_pool(
        unique_name,
        WorkPoolUpdate(description="edited", concurrency_limit=1, base_job_template=edited),
    )

    refreshed = WorkPoolProvider().read(unique_name, state).outs or {}
    assert refreshed["description"] == "edited"  # refresh records the drift
    assert WorkPoolProvider().diff(unique_name, refreshed, props).changes is True
    assert WorkPoolProvider().diff(unique_name, state, props).changes is True  # without refresh
    WorkPoolProvider().update(unique_name, refreshed, props)

    pool = client.read_work_pool(unique_name)
    assert pool.description == "Flow runs on ECS"
    assert pool.concurrency_limit is None
    assert pool.base_job_template == state["base_job_template"]


def test_an_existing_name_is_a_clear_error_that_says_how_to_adopt(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    client.create_work_pool(WorkPoolCreate(name=unique_name, type="ecs", description="theirs"))

    with pytest.raises(PrefectError) as caught:
        WorkPoolProvider().create(pool_props(proxy.api_url, unique_name, block_id))

    assert caught.value.status_code == 409
    assert f"a work pool named {unique_name!r} already exists" in str(caught.value)
    assert "adopt_existing: true" in str(caught.value)
    assert client.read_work_pool(unique_name).description == "theirs"


def test_adopting_updates_the_existing_pool_but_never_its_type(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    theirs = client.create_work_pool(WorkPoolCreate(name=unique_name, type="ecs"))
    props = pool_props(proxy.api_url, unique_name, block_id, adopt_existing=True)

    state = created(props)

    assert state["pool_id"] == str(theirs.id)
    pool = client.read_work_pool(unique_name)
    assert pool.description == "Flow runs on ECS"
    assert variables(pool)["vpc_id"]["default"] == "vpc-0a1b2c3d"

    other = unique_name + "-k8s"
    client.create_work_pool(WorkPoolCreate(name=other, type="kubernetes"))
    with pytest.raises(PrefectError, match="has type 'kubernetes', not 'ecs'"):
        WorkPoolProvider().create({**props, "name": other})


def test_a_push_type_at_a_self_hosted_server_is_refused_before_any_write(
    proxy: LoopbackProxy, unique_name: str, block_id: str
) -> None:
    with pytest.raises(PrefectError) as caught:
        WorkPoolProvider().create(pool_props(proxy.api_url, unique_name, block_id, type="ecs:push"))

    message = str(caught.value)
    assert "'ecs:push' exists only in Prefect Cloud" in message
    assert "self-hosted" in message
    assert "worker type 'ecs'" in message
    assert proxy.writes() == []


def test_a_default_that_does_not_fit_the_template_is_refused_before_any_write(
    proxy: LoopbackProxy, unique_name: str, block_id: str
) -> None:
    wrong_type = pool_props(
        proxy.api_url, unique_name, block_id, template_defaults={**DEFAULTS, "cpu": "lots"}
    )
    with pytest.raises(PrefectError, match=r"default 'lots' for the template variable 'cpu'"):
        WorkPoolProvider().create(wrong_type)

    unknown = pool_props(proxy.api_url, unique_name, block_id, template_defaults={"regoin": "x"})
    with pytest.raises(PrefectError, match=r"no variable 'regoin' to set a default on"):
        WorkPoolProvider().create(unknown)
    assert proxy.writes() == []


def test_a_users_template_replaces_the_servers_default(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    template = {
        "job_configuration": {"cluster": "{{ cluster }}", "creds": "{{ aws_credentials }}"},
        "variables": {
            "type": "object",
            "properties": {
                "cluster": {"type": "string"},
                "aws_credentials": {"type": "object"},
            },
        },
    }
    props = pool_props(
        proxy.api_url,
        unique_name,
        block_id,
        base_template=template,
        template_defaults={"cluster": "c1"},
    )
    state = created(props)

    pool = client.read_work_pool(unique_name)
    assert pool.base_job_template["job_configuration"] == template["job_configuration"]
    assert variables(pool)["cluster"]["default"] == "c1"
    assert WorkPoolProvider().diff(unique_name, state, props).changes is False

    # Back to the server's default template: an update that fetches it.
    default = {**props, "base_template": None, "template_defaults": DEFAULTS}
    assert WorkPoolProvider().diff(unique_name, state, default).changes is True
    WorkPoolProvider().update(unique_name, state, default)
    assert "task_role_arn" in variables(client.read_work_pool(unique_name))


def test_a_new_block_reference_must_exist_although_prefect_does_not_check_a_patch(
    proxy: LoopbackProxy, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)
    missing = "00000000-0000-4000-8000-000000000001"
    proxy.reset()

    with pytest.raises(PrefectError, match=f"credentials block {missing} .* does not exist"):
        WorkPoolProvider().update(unique_name, state, {**props, "block_document_id": missing})
    assert proxy.writes() == []


def test_delete_removes_only_our_pool(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    props = pool_props(proxy.api_url, unique_name, block_id)
    state = created(props)
    WorkPoolProvider().delete(unique_name, state)
    with pytest.raises(ObjectNotFound):
        client.read_work_pool(unique_name)
    WorkPoolProvider().delete(unique_name, state)  # gone already: not an error

    # A pool someone else made under the same name since is left alone.
    client.create_work_pool(WorkPoolCreate(name=unique_name, type="ecs", description="theirs"))
    WorkPoolProvider().delete(unique_name, state)
    assert client.read_work_pool(unique_name).description == "theirs"


def test_numbers_arrive_as_floats_from_the_engine_and_reach_prefect_as_integers(
    proxy: LoopbackProxy, client: SyncPrefectClient, unique_name: str, block_id: str
) -> None:
    """Pulumi's wire format carries every number as a float: 1024 arrives as 1024.0."""
    as_written = pool_props(
        proxy.api_url,
        unique_name,
        block_id,
        concurrency_limit=4,
        template_defaults={**DEFAULTS, "cpu": 1024, "memory": 2048},
    )
    as_delivered = {
        **as_written,
        "concurrency_limit": 4.0,
        "template_defaults": {**DEFAULTS, "cpu": 1024.0, "memory": 2048.0},
    }
    state = created(as_delivered)

    pool = client.read_work_pool(unique_name)
    cpu = variables(pool)["cpu"]["default"]
    assert cpu == 1024
    assert isinstance(cpu, int)
    assert isinstance(pool.concurrency_limit, int)
    assert WorkPoolProvider().diff(unique_name, state, as_written).changes is False
    assert WorkPoolProvider().diff(unique_name, state, as_delivered).changes is False
