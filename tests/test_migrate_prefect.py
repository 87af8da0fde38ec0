"""Migrating the Prefect side against a real Prefect server: a credentials block and a
work pool made the way `--provision-infra` makes them, then adopted by the resources the
stack program declares, as the first `pulumi up` after `pulumi import` runs them.

The helper's way (prefect's infrastructure provisioners): the block under its name
(`{pool}-push-pool-credentials` for GCP, `{pool}-aws-credentials` for AWS) with the most
recent schema of its type and the helper's data shape; the pool with the default base job
template of its type, whose credentials variable defaults to a `$ref` to that block, plus
the infrastructure defaults the helper sets. A self-hosted server knows no push pools, so
the pools are the push types' worker types (same variables, same block).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import BlockDocumentCreate, WorkPoolCreate
from prefect.workers.base import BaseWorker

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.engine import ProgramRun, reveal
from pushpools_tools.migrate import MigrateOptions, build_migration
from pushpools_tools.plan import run_stack
from tests.harness import PROJECT_DIR, settings_for
from tests.prefect_server import LoopbackProxy, PrefectServer

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"


@dataclass
class Helper:
    """What the helper left in Prefect for one pool."""

    pool: dict[str, Any]
    """The pool's stack config (helper names: today's defaults)."""
    block_slug: str
    block_name: str
    block_data: dict[str, Any]
    infrastructure_defaults: dict[str, Any]
    credentials_variable: str
    block_id: str = ""
    pool_id: str = ""
    deployment_id: str = ""


def _helpers() -> list[Helper]:
    return [
        Helper(
            pool={
                "name": "moved-cloud-run",
                "type": "cloud-run",
                "naming": "helper",
                "gcp": {"project": "acme-data-prod"},
                "prefect": {"adopt_existing": True},
            },
            block_slug="gcp-credentials",
            block_name="moved-cloud-run-push-pool-credentials",
            # The helper stores the key file as an object, without `project`.
            block_data={
                "service_account_info": {
                    "type": "service_account",
                    "project_id": "acme-data-prod",
                    "private_key_id": "helper-old-key-id",
                    "private_key": "helper-old-key-material",
                    "client_email": "prefect-cloud-run@acme-data-prod.iam.gserviceaccount.com",
                }
            },
            infrastructure_defaults={},  # the helper sets neither region nor account
            credentials_variable="credentials",
        ),
        Helper(
            pool={
                "name": "moved-ecs",
                "type": "ecs",
                "naming": "helper",
                "aws": {"region": "eu-west-1"},
                "prefect": {"adopt_existing": True},
            },
            block_slug="aws-credentials",
            block_name="moved-ecs-aws-credentials",
            block_data={
                "aws_access_key_id": "AKIAHELPEROLDKEY0001",
                "aws_secret_access_key": "helper-old-secret-access-key-000000000000",
                "region_name": "eu-west-1",
            },
            infrastructure_defaults={
                "cluster": "prefect-ecs-cluster",
                "execution_role_arn": "arn:aws:iam::210987654321:role/PrefectEcsTaskExecutionRole",
            },
            credentials_variable="aws_credentials",
        ),
    ]


@pytest.fixture(scope="module")
def proxy(prefect_server: PrefectServer) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(prefect_server.api_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def helpers(prefect_server: PrefectServer) -> list[Helper]:
    """Each pool as the helper makes it, with a deployment that runs on it."""
    made = _helpers()
    with SyncPrefectClient(prefect_server.api_url) as client:
        for helper in made:
            block_type = client.read_block_type_by_slug(helper.block_slug)
            schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
            assert schema is not None
            block = client.create_block_document(
                BlockDocumentCreate(
                    name=helper.block_name,
                    data=helper.block_data,
                    block_type_id=block_type.id,
                    block_schema_id=schema.id,
                )
            )
            helper.block_id = str(block.id)
            worker = BaseWorker.get_worker_class_from_type(helper.pool["type"])
            assert worker is not None
            template = copy.deepcopy(worker.get_default_base_job_template())
            properties = template["variables"]["properties"]
            properties[helper.credentials_variable]["default"] = {
                "$ref": {"block_document_id": helper.block_id}
            }
            for variable, value in helper.infrastructure_defaults.items():
                properties[variable]["default"] = value
            pool = client.create_work_pool(
                WorkPoolCreate(
                    name=helper.pool["name"], type=helper.pool["type"], base_job_template=template
                )
            )
            helper.pool_id = str(pool.id)
            flow_id = client.create_flow_from_name(f"{helper.pool['name']}-flow")
            helper.deployment_id = str(
                client.create_deployment(
                    flow_id=flow_id, name="nightly", work_pool_name=helper.pool["name"]
                )
            )
    return made


@pytest.fixture(scope="module")
def run(proxy: LoopbackProxy, helpers: list[Helper]) -> ProgramRun:
    settings = settings_for(
        {
            "pushpools:pools": [h.pool for h in helpers],
            "pushpools:prefect": {"api_url": proxy.api_url},
        }
    )
    run = run_stack(PROJECT_DIR, settings)
    # migrate accepts this stack: registration is on and every pool adopts.
    migration = build_migration(run, settings, MigrateOptions())
    assert all("adopted in place" in m.prefect[0] for m in migration.pools)
    return run


@dataclass
class Adopted:
    helper: Helper
    block_inputs: dict[str, Any]
    pool_inputs: dict[str, Any]
    block_state: dict[str, Any]
    pool_state: dict[str, Any]


@pytest.fixture(scope="module")
def adopted(run: ProgramRun, helpers: list[Helper]) -> list[Adopted]:
    """The first `pulumi up`: the engine creates the declared block and pool, which the
    providers adopt because the helper's are there."""
    done = []
    for helper in helpers:
        component = run.one(f"pushpools:{_cloud(helper)}", helper.pool["name"])
        block = next(r for r in run.find(BLOCK) if r.parent == component.urn)
        pool = next(r for r in run.find(WORK_POOL) if r.parent == component.urn)
        block_inputs = reveal(block.inputs)
        block_state = {**block_inputs, **(BlockProvider().create(block_inputs).outs or {})}
        pool_inputs = {
            **copy.deepcopy(reveal(pool.inputs)),
            "block_document_id": block_state["block_document_id"],
        }
        pool_state = {**pool_inputs, **(WorkPoolProvider().create(pool_inputs).outs or {})}
        done.append(Adopted(helper, block_inputs, pool_inputs, block_state, pool_state))
    return done


def _cloud(helper: Helper) -> str:
    return "gcp:CloudRunPushPool" if "gcp" in helper.pool else "aws:EcsPushPool"


def test_the_block_is_adopted_in_place_and_holds_the_new_key(
    adopted: list[Adopted], prefect_server: PrefectServer
) -> None:
    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in adopted:
            # Same document: every reference to it (the pool's template) stays valid.
            assert item.block_state["block_document_id"] == item.helper.block_id
            stored = client.read_block_document(UUID(item.helper.block_id), include_secrets=True)
            assert stored.name == item.helper.block_name
            assert stored.data == item.block_inputs["data"]
            assert stored.data != item.helper.block_data
            assert "helper-old" not in json.dumps(stored.data)


def test_the_pool_is_adopted_and_its_template_rewired(
    adopted: list[Adopted], prefect_server: PrefectServer
) -> None:
    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in adopted:
            pool = client.read_work_pool(item.helper.pool["name"])
            assert str(pool.id) == item.helper.pool_id  # updated, never recreated
            properties = pool.base_job_template["variables"]["properties"]
            assert properties[item.helper.credentials_variable]["default"] == {
                "$ref": {"block_document_id": item.helper.block_id}
            }
            for variable, value in item.pool_inputs["template_defaults"].items():
                assert properties[variable]["default"] == value, variable
            # The helper's gaps are filled: GCP gets its region, ECS its network.
            assert {"region", "network_configuration"} & set(item.pool_inputs["template_defaults"])


def test_nothing_is_lost_deployments_still_run_on_the_pool(
    adopted: list[Adopted], prefect_server: PrefectServer
) -> None:
    with SyncPrefectClient(prefect_server.api_url) as client:
        for item in adopted:
            deployment = client.read_deployment(UUID(item.helper.deployment_id))
            assert deployment.work_pool_name == item.helper.pool["name"]
            names = {b.name for b in client.read_block_documents()}
            assert item.helper.block_name in names


def test_the_following_run_writes_nothing(adopted: list[Adopted], proxy: LoopbackProxy) -> None:
    proxy.reset()
    for item in adopted:
        assert not BlockProvider().diff("", item.block_state, item.block_inputs).changes
        assert not WorkPoolProvider().diff("", item.pool_state, item.pool_inputs).changes
    assert proxy.seen  # the drift check read Prefect ...
    assert proxy.writes() == []  # ... and wrote nothing
