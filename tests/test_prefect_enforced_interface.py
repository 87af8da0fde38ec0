"""The platform team's enforced interface, enforced by Prefect itself on a real server.

An `ecs` pool (the worker type a self-hosted server serves; the push type exposes the same
variables) registered by our work-pool provider with a pinned cluster and launch type,
bounded CPU, memory and image, and a default memory. Deployments and flow runs are then
created through Prefect's own client, as `prefect deploy` and the UI do, and the job
configuration a worker would run is built by prefect-aws' own ECS job configuration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient, SyncPrefectClient
from prefect.exceptions import PrefectHTTPStatusError
from prefect_aws.workers.ecs_worker import ECSJobConfiguration

from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.work_pools import WorkPoolProvider
from tests.prefect_server import PrefectServer

CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/platform"
ROLE = "arn:aws:iam::123456789012:role/PrefectEcsTaskExecutionRole"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prefect-flows"
BOUNDS = {
    "cpu": {"minimum": 256, "maximum": 2048},
    "memory": {"enum": [512, 1024, 2048, 4096]},
    "image": {"pattern": "^" + REGISTRY.replace(".", r"\.") + ":"},
}


@pytest.fixture
def client(prefect_server: PrefectServer) -> Iterator[SyncPrefectClient]:
    with SyncPrefectClient(prefect_server.api_url) as client:
        yield client


def pool_props(api_url: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "api_key": None,
        "auth_string": None,
        "name": name,
        "type": "ecs",
        "description": None,
        "concurrency_limit": None,
        "paused": False,
        # What pushpools' ECS pool sets, plus the team's own default.
        "template_defaults": {"execution_role_arn": ROLE, "cluster": CLUSTER, "memory": 1024},
        "credentials_variable": None,
        "block_document_id": None,
        "base_template": None,
        "adopt_existing": False,
        "template_pins": {"launch_type": "FARGATE"},
        "template_pinned_defaults": ["cluster", "execution_role_arn"],
        "template_bounds": BOUNDS,
        **extra,
    }


@pytest.fixture
def pool(prefect_server: PrefectServer, unique_name: str) -> str:
    name = "i" + unique_name  # the server is the session's, shared with other modules
    WorkPoolProvider().create(pool_props(prefect_server.api_url, name))
    return name


def deploy(client: SyncPrefectClient, pool: str, job_variables: dict[str, Any]) -> UUID:
    flow_id = client.create_flow_from_name("etl")
    return client.create_deployment(
        flow_id=flow_id,
        name=f"{pool}-{abs(hash(repr(job_variables)))}",
        work_pool_name=pool,
        job_variables=job_variables,
    )


def refused(call: Any) -> str:
    with pytest.raises(PrefectHTTPStatusError) as caught:
        call()
    assert caught.value.response.status_code == 422
    return str(caught.value.response.json())


def job_configuration(client: SyncPrefectClient, pool: str, values: dict[str, Any]) -> Any:
    """What an ECS worker would run: prefect-aws' configuration from the pool's template
    (the worker's `_get_configuration` does exactly this with the run's job variables)."""
    template = client.read_work_pool(pool).base_job_template

    async def build() -> Any:
        async with PrefectClient(str(client.api_url)) as worker_client:
            return await ECSJobConfiguration.from_template_and_values(
                template, values, client=worker_client
            )

    return asyncio.run(build())


def test_a_deployment_that_sets_a_pinned_variable_is_refused_by_prefect(
    client: SyncPrefectClient, pool: str
) -> None:
    for pinned in ("cluster", "launch_type", "execution_role_arn"):
        detail = refused(lambda pinned=pinned: deploy(client, pool, {pinned: "mine"}))
        assert pinned in detail


def test_a_deployment_out_of_bounds_is_refused_by_prefect(
    client: SyncPrefectClient, pool: str
) -> None:
    assert "4096" in refused(lambda: deploy(client, pool, {"cpu": 4096}))
    assert "3000" in refused(lambda: deploy(client, pool, {"memory": 3000}))
    assert "docker.io" in refused(lambda: deploy(client, pool, {"image": "docker.io/evil:1"}))


def test_a_flow_run_cannot_go_around_the_interface_either(
    client: SyncPrefectClient, pool: str
) -> None:
    deployment = deploy(client, pool, {"cpu": 512})
    refused(
        lambda: client.create_flow_run_from_deployment(
            deployment, job_variables={"cluster": "elsewhere"}
        )
    )
    refused(
        lambda: client.create_flow_run_from_deployment(deployment, job_variables={"cpu": 99999})
    )


def test_a_deployment_within_bounds_runs_with_the_pools_pinned_values(
    client: SyncPrefectClient, pool: str
) -> None:
    values = {"cpu": 1024, "memory": 2048, "image": f"{REGISTRY}:etl-1"}
    deployment = client.read_deployment(deploy(client, pool, values))
    run = client.create_flow_run_from_deployment(deployment.id, job_variables={"cpu": 512})

    config = job_configuration(
        client, pool, {**(deployment.job_variables or {}), **(run.job_variables or {})}
    )

    assert config.cluster == CLUSTER
    assert config.task_run_request["launchType"] == "FARGATE"
    assert config.task_definition["executionRoleArn"] == ROLE
    assert config.task_definition["cpu"] == 512  # the run's own, within bounds
    assert config.task_definition["memory"] == 2048
    assert config.task_definition["containerDefinitions"][0]["image"] == f"{REGISTRY}:etl-1"
    # Unset by the deployment: the pool's default.
    assert job_configuration(client, pool, {}).task_definition["memory"] == 1024


def test_the_pool_shows_no_pinned_variable_and_the_bounds_in_its_schema(
    client: SyncPrefectClient, pool: str
) -> None:
    variables = client.read_work_pool(pool).base_job_template["variables"]

    assert not {"cluster", "launch_type", "execution_role_arn"} & set(variables["properties"])
    assert variables["properties"]["cpu"]["maximum"] == 2048
    assert variables["properties"]["memory"]["default"] == 1024
    assert variables["properties"]["memory"]["enum"] == [512, 1024, 2048, 4096]


def test_pins_and_bounds_on_undeclared_variables_are_refused_by_name_before_any_write(
    prefect_server: PrefectServer, client: SyncPrefectClient, unique_name: str
) -> None:
    props = pool_props(
        prefect_server.api_url,
        unique_name,
        template_pins={"clustre": "x"},
        template_bounds={"cpus": {"maximum": 1}},
    )
    with pytest.raises(PrefectError) as caught:
        WorkPoolProvider().create(props)

    message = str(caught.value)
    assert "no variable 'clustre' to pin" in message
    assert "no variable 'cpus' to bound" in message
    assert unique_name not in {p.name for p in client.read_work_pools()}


def test_a_default_or_pin_outside_the_bounds_is_refused_before_any_write(
    prefect_server: PrefectServer, client: SyncPrefectClient, unique_name: str
) -> None:
    props = pool_props(
        prefect_server.api_url,
        unique_name,
        template_defaults={"memory": 3000},
        template_pinned_defaults=[],
    )
    with pytest.raises(PrefectError, match=r"default 3000 for the template variable 'memory'"):
        WorkPoolProvider().create(props)
    assert unique_name not in {p.name for p in client.read_work_pools()}
