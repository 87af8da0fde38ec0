"""What the ECS pool exports works with Prefect's own code (prefect-aws), offline.

The credentials payload goes through Prefect's `AwsCredentials` block class; the template
defaults go through the ECS worker (which push pools run too) up to the task definition and
RunTask request it would send to AWS, and those must fall inside the pool's IAM policy.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from fnmatch import fnmatchcase
from typing import Any

import jsonschema
import pytest
from prefect.client.schemas.objects import FlowRun
from prefect_aws.credentials import AwsCredentials
from prefect_aws.workers.ecs_worker import ECSJobConfiguration, ECSWorker
from pydantic import SecretStr

from pushpools_tools.engine import ProgramRun, reveal
from tests.harness import inputs, outputs, run_pools

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


def _statement(run: ProgramRun, sid: str) -> dict[str, Any]:
    document = json.loads(inputs(run.one("aws:iam/policy:Policy"))["policy"])
    (statement,) = [s for s in document["Statement"] if s["Sid"] == sid]
    return statement


def _allows(pattern: str | list[str], arn: str) -> bool:
    """IAM's wildcard match: `*` spans any characters, `:` and `/` included."""
    patterns = [pattern] if isinstance(pattern, str) else pattern
    return any(fnmatchcase(arn, p) for p in patterns)


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


def _job_configuration(
    template_defaults: dict[str, Any], block_data: dict[str, Any]
) -> ECSJobConfiguration:
    """The job configuration Prefect builds from the pool's template and the block."""
    template = ECSWorker.get_default_base_job_template()
    for name, value in template_defaults.items():
        template["variables"]["properties"][name]["default"] = value
    # No block or variable references to resolve: no Prefect API is needed.
    return asyncio.run(
        ECSJobConfiguration.from_template_and_values(
            template, {"aws_credentials": block_data}, client=object()
        )
    )


class _FakeEc2:
    """What EC2 answers about the pool's VPC (the worker checks the subnets are in it)."""

    def __init__(self, vpc_id: str, subnet_ids: list[str]) -> None:
        self.vpc_id, self.subnet_ids = vpc_id, subnet_ids

    def describe_vpcs(self, VpcIds: list[str]) -> dict[str, Any]:  # noqa: N803 - boto3's
        return {"Vpcs": [{"VpcId": v} for v in VpcIds if v == self.vpc_id]}

    def describe_subnets(self, Filters: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        return {"Subnets": [{"SubnetId": s} for s in self.subnet_ids]}


@pytest.fixture(scope="module")
def worker_requests(
    template_defaults: dict[str, Any], block_data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The task definition and RunTask request the ECS worker makes for a flow run."""
    configuration = _job_configuration(template_defaults, block_data)
    flow_run = FlowRun(flow_id=uuid.uuid4(), deployment_id=uuid.uuid4(), name="nightly")
    configuration.prepare_for_flow_run(flow_run)
    worker = ECSWorker(work_pool_name=POOL)
    task_definition = worker._prepare_task_definition(configuration, REGION, flow_run)
    task_definition["networkMode"] = "awsvpc"  # what Fargate requires
    ec2 = _FakeEc2(
        template_defaults["vpc_id"], template_defaults["network_configuration"]["subnets"]
    )
    fake_credentials = type("Credentials", (), {"get_client": lambda self, service: ec2})()
    object.__setattr__(configuration, "aws_credentials", fake_credentials)
    task_definition_arn = (
        f"arn:aws:ecs:{REGION}:123456789012:task-definition/{task_definition['family']}:1"
    )
    request = worker._prepare_task_run_request(
        configuration, task_definition, task_definition_arn, True
    )
    return task_definition, request


def test_the_worker_runs_tasks_on_the_pools_cluster_network_and_roles(
    run: ProgramRun,
    template_defaults: dict[str, Any],
    worker_requests: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    task_definition, request = worker_requests
    assert request["cluster"] == outputs(run.one("aws:ecs/cluster:Cluster"))["arn"]
    assert request["launchType"] == "FARGATE"
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": template_defaults["network_configuration"]["subnets"],
            "securityGroups": [outputs(run.one("aws:ec2/securityGroup:SecurityGroup"))["id"]],
            "assignPublicIp": "ENABLED",
        }
    }
    assert task_definition["executionRoleArn"] == template_defaults["execution_role_arn"]
    assert request["overrides"]["taskRoleArn"] == template_defaults["task_role_arn"]


def test_the_worker_logs_to_the_pools_log_group(
    run: ProgramRun, worker_requests: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    task_definition, _ = worker_requests
    (container,) = task_definition["containerDefinitions"]
    options = container["logConfiguration"]["options"]
    assert options["awslogs-group"] == inputs(run.one("aws:cloudwatch/logGroup:LogGroup"))["name"]
    assert options["awslogs-region"] == REGION
    # The agent then calls CreateLogGroup, which AWS checks on this resource (issue 20237).
    assert options["awslogs-create-group"] == "true"
    log_group_arn = outputs(run.one("aws:cloudwatch/logGroup:LogGroup"))["arn"]
    logs = json.loads(inputs(run.one("aws:iam/rolePolicy:RolePolicy"))["policy"])
    assert _allows(logs["Statement"][0]["Resource"], f"{log_group_arn}:log-stream:")


def test_the_policy_allows_what_the_worker_does_for_this_pool(
    run: ProgramRun, worker_requests: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    task_definition, request = worker_requests
    assert task_definition["family"].startswith(f"prefect_{POOL}_")
    register = _statement(run, "ThisPoolsTaskDefinitions")
    run_task = _statement(run, "RunTasksOnThisPoolsCluster")
    assert _allows(register["Resource"], request["taskDefinition"])
    assert _allows(run_task["Resource"], request["taskDefinition"])
    assert run_task["Condition"] == {"ArnEquals": {"ecs:cluster": request["cluster"]}}
    cluster_name = request["cluster"].rsplit("/", 1)[1]
    task_arn = f"arn:aws:ecs:{REGION}:123456789012:task/{cluster_name}/{uuid.uuid4().hex}"
    assert _allows(_statement(run, "TasksOnThisPoolsCluster")["Resource"], task_arn)
    pass_role = _statement(run, "AllowPassRoleForEcs")["Resource"]
    assert sorted(pass_role) == sorted(
        [task_definition["executionRoleArn"], request["overrides"]["taskRoleArn"]]
    )


def test_the_policy_refuses_another_pools_task_definitions(
    run: ProgramRun, worker_requests: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, request = worker_requests
    other_pool = request["taskDefinition"].replace(f"prefect_{POOL}_", "prefect_dev-ecs-2_")
    assert not _allows(_statement(run, "RunTasksOnThisPoolsCluster")["Resource"], other_pool)
