"""The ECS key holds exactly what Prefect's ECS code calls with it: proven by running that code.

Prefect's own `ECSWorker` (prefect-aws, which push pools run too) and its ECS observer run
here against a fake AWS account (tests/fake_aws.py) whose only policy is the pool's
`<pool>-prefect-policy`, with the pool's key from the credentials block. Every call is
judged as IAM would judge it; a call outside the policy fails the test. Each scenario is a
template default pushpools sets or a job variable a deployment may set:

- a flow run with the pool's defaults: RegisterTaskDefinition; DescribeVpcs and
  DescribeSubnets (the worker checks that the subnets belong to `vpc_id`); RunTask, with
  TagResource (tags on creation) and PassRole (the task's roles);
- the deployment's next flow run: DescribeTaskDefinition (the cached revision), RunTask;
- `match_latest_revision_in_family`, `task_definition_arn`: DescribeTaskDefinition;
- `vpc_id` without `network_configuration`: DescribeVpcs, DescribeSubnets (its subnets);
- `cluster` by name, `launch_type: FARGATE_SPOT`: RunTask, authorized on the cluster's ARN;
- cancelling a flow run: StopTask;
- a pool in private subnets (`network.egress: nat`): RunTask in the private subnets only
  (the VPC also holds the NAT gateway's public subnet), assignPublicIp DISABLED;
- the observer, on a task's ECS event: DescribeTasks (its tags name the flow run); on a
  crashed task: DescribeTaskDefinition and GetLogEvents (its last log lines); with
  `auto_deregister_task_definition`: DeregisterTaskDefinition.

The observer calls AWS with the worker's own identity (the environment's credentials); it
runs here with the pool's key, as it does for a self-hosted `ecs` worker started with it.
Prefect Cloud's push runner is not public: what it calls beyond the worker is not verified.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.objects import FlowRun, WorkPool
from prefect.settings import PREFECT_LOGGING_TO_API_ENABLED, temporary_settings
from prefect_aws import credentials as prefect_aws_credentials
from prefect_aws.observers import ecs as observer
from prefect_aws.workers import ecs_worker
from prefect_aws.workers.ecs_worker import ECSJobConfiguration, ECSWorker

from pushpools_tools.engine import ProgramRun, reveal
from tests.fake_aws import ACCOUNT_ID, Authorization, FakeAws, allows
from tests.harness import inputs, outputs, run_pools

POOL = "dev-ecs"
REGION = "eu-west-1"
POLICY = "aws:iam/policy:Policy"
LOG_LINES = ["Traceback (most recent call last):", "ValueError: the flow failed"]


@dataclass(frozen=True)
class Pool:
    """What the stack program declared for the pool, as Prefect's code receives it."""

    run: ProgramRun
    policy: dict[str, Any]
    block_data: dict[str, Any]
    defaults: dict[str, Any]

    def template(self) -> dict[str, Any]:
        """The work pool's base job template, with the pool's defaults."""
        template = ECSWorker.get_default_base_job_template()
        for name, value in self.defaults.items():
            template["variables"]["properties"][name]["default"] = value
        return template

    def configuration(self, flow_run: FlowRun, **job_variables: Any) -> ECSJobConfiguration:
        """The job configuration Prefect builds from the pool's template, the block and a
        deployment's job variables."""
        configuration = asyncio.run(
            ECSJobConfiguration.from_template_and_values(
                self.template(),
                {"aws_credentials": self.block_data, **job_variables},
                client=object(),
            )
        )
        configuration.prepare_for_flow_run(flow_run)
        return configuration

    def worker(self) -> ECSWorker:
        """The worker as it runs once it has read its work pool from Prefect."""
        worker = ECSWorker(work_pool_name=POOL)
        worker._work_pool = WorkPool(name=POOL, type="ecs:push", base_job_template=self.template())
        return worker


@pytest.fixture(scope="module")
def pool() -> Pool:
    run = run_pools({"name": POOL, "type": "ecs:push", "aws": {"region": REGION, "task_role": {}}})
    return Pool(
        run=run,
        policy=json.loads(inputs(run.one(POLICY, f"{POOL}-prefect-policy"))["policy"]),
        block_data=reveal(run.outputs["credentials_blocks"])[POOL]["data"],
        defaults=run.outputs["pools"][POOL]["template_defaults"],
    )


def _forget_cached_clients_and_task_definitions() -> None:
    # What other tests cached would bypass the fake.
    prefect_aws_credentials._get_client_cached.cache_clear()
    ecs_worker._TASK_DEFINITION_CACHE.clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pool: Pool) -> Iterator[FakeAws]:
    yield from _fake_aws(
        monkeypatch, tmp_path, pool, pool.defaults["network_configuration"]["subnets"]
    )


def _fake_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pool: Pool, vpc_subnet_ids: list[str]
) -> Iterator[FakeAws]:
    """The fake account holding the pool's VPC with `vpc_subnet_ids` (all of its subnets)."""
    fake = FakeAws(
        pool.policy,
        vpc_id=pool.defaults["vpc_id"],
        subnet_ids=vpc_subnet_ids,
        log_lines=LOG_LINES,
    )
    fake.install(monkeypatch)
    _forget_cached_clients_and_task_definitions()
    # The observer's clients read the environment's credentials: the pool's key, and
    # nothing from this machine's AWS configuration.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", pool.block_data["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", pool.block_data["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    with temporary_settings({PREFECT_LOGGING_TO_API_ENABLED: False}):
        yield fake
    _forget_cached_clients_and_task_definitions()


def _flow_run(deployment_id: uuid.UUID | None = None) -> FlowRun:
    return FlowRun(
        flow_id=uuid.uuid4(), deployment_id=deployment_id or uuid.uuid4(), name="nightly"
    )


def _start(pool: Pool, configuration: ECSJobConfiguration, flow_run: FlowRun) -> str:
    """A flow run started as the worker starts it; returns its `cluster::task` identifier."""
    return asyncio.run(pool.worker().run(flow_run, configuration)).identifier


def _calls(aws: FakeAws, operation: str) -> list[dict[str, Any]]:
    return [c.params for c in aws.calls if f"{c.service}:{c.operation}" == operation]


# --- the scenarios: each runs Prefect's code and asserts what it called ----------------


def defaults_flow_run(aws: FakeAws, pool: Pool) -> None:
    flow_run = _flow_run()
    _start(pool, pool.configuration(flow_run), flow_run)
    assert aws.operations() == [
        "ecs:RegisterTaskDefinition",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ecs:RunTask",
    ]
    # Every call was made with the pool's key, from the block.
    assert {c.access_key for c in aws.calls} == {pool.block_data["aws_access_key_id"]}
    (definition,) = _calls(aws, "ecs:RegisterTaskDefinition")
    (request,) = _calls(aws, "ecs:RunTask")
    assert definition["family"] == f"prefect_{POOL}_{flow_run.deployment_id}"
    assert definition["executionRoleArn"] == pool.defaults["execution_role_arn"]
    assert request["cluster"] == outputs(pool.run.one("aws:ecs/cluster:Cluster"))["arn"]
    assert request["launchType"] == "FARGATE"
    assert request["overrides"]["taskRoleArn"] == pool.defaults["task_role_arn"]
    security_group = outputs(pool.run.one("aws:ec2/securityGroup:SecurityGroup"))["id"]
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": pool.defaults["network_configuration"]["subnets"],
            "securityGroups": [security_group],
            "assignPublicIp": "ENABLED",
        }
    }
    assert {"key": "prefect.io/flow-run-id", "value": str(flow_run.id)} in request["tags"]
    # The task logs to the pool's log group; the ECS agent creates it as the execution
    # role, whose inline policy allows that (Prefect issue 20237), not as Prefect's key.
    (container,) = definition["containerDefinitions"]
    options = container["logConfiguration"]["options"]
    log_group = inputs(pool.run.one("aws:cloudwatch/logGroup:LogGroup"))["name"]
    assert (options["awslogs-group"], options["awslogs-create-group"]) == (log_group, "true")


def next_flow_run_of_the_deployment(aws: FakeAws, pool: Pool) -> None:
    deployment = uuid.uuid4()
    for _ in range(2):
        flow_run = _flow_run(deployment)
        _start(pool, pool.configuration(flow_run), flow_run)
    assert aws.operations()[4:] == [
        "ecs:DescribeTaskDefinition",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ecs:RunTask",
    ]
    assert len(_calls(aws, "ecs:RegisterTaskDefinition")) == 1


def latest_revision_and_given_task_definition(aws: FakeAws, pool: Pool) -> None:
    deployment = uuid.uuid4()
    first = _flow_run(deployment)
    _start(pool, pool.configuration(first), first)
    (definition_arn,) = aws.account.task_definitions
    ecs_worker._TASK_DEFINITION_CACHE.clear()  # a new worker process
    latest = _flow_run(deployment)
    _start(pool, pool.configuration(latest, match_latest_revision_in_family=True), latest)
    given = _flow_run()
    _start(pool, pool.configuration(given, task_definition_arn=definition_arn), given)
    assert len(_calls(aws, "ecs:RegisterTaskDefinition")) == 1
    assert [p["taskDefinition"] for p in _calls(aws, "ecs:DescribeTaskDefinition")] == [
        f"prefect_{POOL}_{deployment}",
        definition_arn,
    ]
    assert [p["taskDefinition"] for p in _calls(aws, "ecs:RunTask")] == [definition_arn] * 3


def vpc_id_without_network_configuration(aws: FakeAws, pool: Pool) -> None:
    flow_run = _flow_run()
    _start(pool, pool.configuration(flow_run, network_configuration={}), flow_run)
    vpc_id = pool.defaults["vpc_id"]
    assert _calls(aws, "ec2:DescribeVpcs") == [{"VpcIds": [vpc_id]}]
    assert _calls(aws, "ec2:DescribeSubnets") == [
        {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]}
    ]
    (request,) = _calls(aws, "ecs:RunTask")
    subnets = request["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert subnets == pool.defaults["network_configuration"]["subnets"]


def cluster_by_name_on_fargate_spot(aws: FakeAws, pool: Pool) -> None:
    flow_run = _flow_run()
    configuration = pool.configuration(
        flow_run, cluster=f"{POOL}-cluster", launch_type="FARGATE_SPOT"
    )
    _start(pool, configuration, flow_run)
    (request,) = _calls(aws, "ecs:RunTask")
    assert request["cluster"] == f"{POOL}-cluster"
    assert request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]


def cancelling_a_flow_run(aws: FakeAws, pool: Pool) -> None:
    flow_run = _flow_run()
    configuration = pool.configuration(flow_run)
    identifier = _start(pool, configuration, flow_run)
    asyncio.run(pool.worker().kill_infrastructure(identifier, configuration))
    (stop,) = _calls(aws, "ecs:StopTask")
    (task,) = aws.account.tasks.values()
    assert (stop["task"], task["lastStatus"]) == (task["taskArn"], "STOPPED")


def the_observer_on_a_crashed_task(aws: FakeAws, pool: Pool) -> None:
    flow_run = _flow_run()
    _start(pool, pool.configuration(flow_run, auto_deregister_task_definition=True), flow_run)
    (task,) = aws.account.tasks.values()
    tags = {t["key"]: t["value"] for t in task["tags"]}
    assert tags["prefect.io/degregister-task-definition"] == "true"
    event = {"detail": {"taskDefinitionArn": task["taskDefinitionArn"]}}

    async def observe() -> dict[str, str]:
        async with observer.EcsTaskTagsReader() as reader:
            read = await reader.read_tags(task["clusterArn"], task["taskArn"])
        await observer._forward_cloudwatch_logs(
            task_arn=task["taskArn"],
            event_detail=event["detail"],
            flow_run_id=str(flow_run.id),
            container_name="prefect",
            max_events=50,
            handler_logger=logging.getLogger(__name__),
        )
        await observer.deregister_task_definition(event, read)
        return read

    assert asyncio.run(observe()) == tags
    assert aws.operations()[-4:] == [
        "ecs:DescribeTasks",
        "ecs:DescribeTaskDefinition",
        "logs:GetLogEvents",
        "ecs:DeregisterTaskDefinition",
    ]
    (logs,) = _calls(aws, "logs:GetLogEvents")
    assert logs["logGroupName"] == pool.defaults["cloudwatch_logs_options"]["awslogs-group"]
    (definition,) = aws.account.task_definitions.values()
    assert definition.status == "INACTIVE"


SCENARIOS = [
    defaults_flow_run,
    next_flow_run_of_the_deployment,
    latest_revision_and_given_task_definition,
    vpc_id_without_network_configuration,
    cluster_by_name_on_fargate_spot,
    cancelling_a_flow_run,
    the_observer_on_a_crashed_task,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_prefects_code_stays_inside_the_pools_policy(
    aws: FakeAws, pool: Pool, scenario: Any
) -> None:
    scenario(aws, pool)
    assert aws.denied == []


def test_the_key_holds_exactly_the_actions_prefects_code_calls(aws: FakeAws, pool: Pool) -> None:
    called: set[str] = set()
    for scenario in SCENARIOS:
        aws.reset()
        _forget_cached_clients_and_task_definitions()
        scenario(aws, pool)
        assert aws.denied == [], scenario.__name__
        called |= aws.authorized_actions
    granted = {a for statement in pool.policy["Statement"] for a in _listed(statement["Action"])}
    assert granted == called


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# --- the check can fail ------------------------------------------------------------------


def test_a_call_outside_the_policy_is_refused_and_recorded(
    aws: FakeAws, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt: the worker would retry RunTask, with a pause between attempts.
    monkeypatch.setenv("PREFECT_INTEGRATIONS_AWS_ECS_WORKER_CREATE_TASK_RUN_MAX_ATTEMPTS", "1")
    flow_run = _flow_run()
    another_cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:cluster/another-pools-cluster"
    with pytest.raises(Exception, match="AccessDenied"):
        _start(pool, pool.configuration(flow_run, cluster=another_cluster), flow_run)
    # Neither the run nor tagging the task it would start, on another pool's cluster.
    assert [(operation, denied.action) for operation, denied in aws.denied] == [
        ("ecs:RunTask", "ecs:RunTask"),
        ("ecs:RunTask", "ecs:TagResource"),
    ]


def test_the_key_refuses_what_only_the_helper_or_another_pool_needs(pool: Pool) -> None:
    vpc = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:vpc/{pool.defaults['vpc_id']}"
    group = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/sg-0123456789abcdef0"
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:cluster/{POOL}-cluster"
    context = {"aws:RequestedRegion": REGION}
    for request in (
        Authorization("ec2:CreateSecurityGroup", vpc, context),
        Authorization("ec2:AuthorizeSecurityGroupIngress", group, {**context, "ec2:Vpc": vpc}),
        Authorization(
            "ec2:CreateTags", group, {**context, "ec2:CreateAction": "CreateSecurityGroup"}
        ),
        Authorization("ecs:CreateCluster", cluster, context),
        Authorization("ecs:ListClusters", "*", context),
        Authorization(
            "ecs:RunTask",
            f"arn:aws:ecs:{REGION}:{ACCOUNT_ID}:task-definition/prefect_{POOL}-2_x:1",
            {**context, "ecs:cluster": cluster},
        ),
        Authorization("ecs:TagResource", f"{cluster.replace(':cluster/', ':task/')}/1", context),
    ):
        assert not allows(pool.policy, request), request


# --- private subnets (`network.egress: nat`) ----------------------------------------------


@pytest.fixture(scope="module")
def private_pool() -> Pool:
    run = run_pools(
        {"name": POOL, "type": "ecs:push", "aws": {"region": REGION, "network": {"egress": "nat"}}}
    )
    return Pool(
        run=run,
        policy=json.loads(inputs(run.one(POLICY, f"{POOL}-prefect-policy"))["policy"]),
        block_data=reveal(run.outputs["credentials_blocks"])[POOL]["data"],
        defaults=run.outputs["pools"][POOL]["template_defaults"],
    )


@pytest.fixture
def private_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, private_pool: Pool
) -> Iterator[FakeAws]:
    # The VPC holds the NAT gateway's public subnet too: DescribeSubnets lists it.
    every_subnet = [outputs(s)["id"] for s in private_pool.run.find("aws:ec2/subnet:Subnet")]
    yield from _fake_aws(monkeypatch, tmp_path, private_pool, every_subnet)


def test_a_flow_run_of_a_private_pool_starts_in_its_private_subnets_without_a_public_ip(
    private_aws: FakeAws, private_pool: Pool
) -> None:
    run = private_pool.run
    private = [outputs(s)["id"] for s in run.find("aws:ec2/subnet:Subnet") if "-private-" in s.name]
    public = [
        outputs(s)["id"] for s in run.find("aws:ec2/subnet:Subnet") if "-nat-public-" in s.name
    ]
    assert (len(private), len(public)) == (3, 1)
    flow_run = _flow_run()
    _start(private_pool, private_pool.configuration(flow_run), flow_run)
    # The worker checked the template's subnets against all of the VPC's, then ran the task.
    (described,) = _calls(private_aws, "ec2:DescribeSubnets")
    assert described == {
        "Filters": [{"Name": "vpc-id", "Values": [private_pool.defaults["vpc_id"]]}]
    }
    (request,) = _calls(private_aws, "ecs:RunTask")
    task_group = outputs(run.one("aws:ec2/securityGroup:SecurityGroup", f"{POOL}-security-group"))
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": private,
            "securityGroups": [task_group["id"]],
            "assignPublicIp": "DISABLED",
        }
    }
    # The same least-privilege key runs it: nothing the private layout adds is called.
    assert private_aws.denied == []
    assert private_aws.operations() == [
        "ecs:RegisterTaskDefinition",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ecs:RunTask",
    ]
