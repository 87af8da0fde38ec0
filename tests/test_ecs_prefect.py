"""What the ECS pool exports works with Prefect's own code (prefect-aws), offline.

The credentials payload goes through Prefect's `AwsCredentials` block class, and the template
defaults fit the ECS worker's template. What the worker then calls with the key, against
the pool's policy: tests/test_ecs_worker_calls.py.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from prefect_aws.credentials import AwsCredentials
from prefect_aws.workers.ecs_worker import ECSWorker
from pydantic import SecretStr

from pushpools_tools.engine import ProgramRun, reveal
from tests.harness import run_pools

POOL = "dev-ecs"
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(
        {
            "name": POOL,
            "type": "ecs:push",
            "aws": {"region": REGION, "task_role": {}},
        }
    )


@pytest.fixture(scope="module")
def block_data(run: ProgramRun) -> dict[str, Any]:
    return reveal(run.outputs["credentials_blocks"])[POOL]["data"]


@pytest.fixture(scope="module")
def template_defaults(run: ProgramRun) -> dict[str, Any]:
    return run.outputs["pools"][POOL]["template_defaults"]


def test_prefects_aws_credentials_block_accepts_the_payload(block_data: dict[str, Any]) -> None:
    credentials = AwsCredentials(**block_data)
    assert credentials.aws_access_key_id == block_data["aws_access_key_id"]
    assert isinstance(credentials.aws_secret_access_key, SecretStr)
    assert credentials.region_name == REGION
    # The block masks the secret wherever it prints itself.
    assert block_data["aws_secret_access_key"] not in repr(credentials)


def test_the_block_builds_a_boto3_session_with_the_pools_key(block_data: dict[str, Any]) -> None:
    session = AwsCredentials(**block_data).get_boto3_session()
    frozen = session.get_credentials().get_frozen_credentials()
    assert frozen.access_key == block_data["aws_access_key_id"]
    assert frozen.secret_key == block_data["aws_secret_access_key"]
    assert session.region_name == REGION


def test_the_defaults_fit_the_ecs_templates_variables(template_defaults: dict[str, Any]) -> None:
    variables = ECSWorker.get_default_base_job_template()["variables"]
    properties = variables["properties"]
    assert set(template_defaults) <= set(properties)
    for name, value in template_defaults.items():
        schema = {**properties[name], "definitions": variables.get("definitions", {})}
        jsonschema.validate(value, schema)
