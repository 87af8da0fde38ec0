"""`pushpools plan` of the shipped stacks shows the ECS pools, offline and without secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pushpools_tools.engine import ProgramRun
from pushpools_tools.plan import plan_document, run_stack
from pushpools_tools.stackfile import load_stack
from tests.harness import PROJECT_DIR, inputs, outputs

AWS_ONLY = PROJECT_DIR / "benchmarks" / "stacks" / "aws-only.yaml"
NETWORK_TYPES = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/routeTable:RouteTable",
)


def _plan(path: Path) -> ProgramRun:
    return run_stack(PROJECT_DIR, load_stack(PROJECT_DIR, path))


def _children(run: ProgramRun, pool: str) -> list[str]:
    component = run.one("pushpools:aws:EcsPushPool", pool)
    return [r.type for r in run.resources if r.parent == component.urn]


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return _plan(PROJECT_DIR / "stacks" / "Pulumi.dev.yaml")


def test_the_dev_stack_plans_an_ecs_pool_in_a_new_vpc(dev: ProgramRun) -> None:
    children = _children(dev, "dev-ecs")
    assert children.count("aws:ec2/subnet:Subnet") == 3
    for type_ in (*NETWORK_TYPES, "aws:ecs/cluster:Cluster", "aws:iam/accessKey:AccessKey"):
        assert type_ in children, type_
    pool = dev.outputs["pools"]["dev-ecs"]
    assert pool["type"] == "ecs:push"
    assert pool["template_defaults"]["launch_type"] == "FARGATE_SPOT"
    assert pool["credentials_block"]["name"] == "dev-ecs-aws-credentials"


def test_the_plan_document_never_holds_the_access_keys_secret(dev: ProgramRun) -> None:
    secret = outputs(dev.one("aws:iam/accessKey:AccessKey"))["secret"]
    document = plan_document(dev)
    assert secret not in json.dumps(document)
    assert document["outputs"]["credentials_blocks"] == "[secret]"


def test_the_prod_stack_plans_an_ecs_pool_in_the_existing_vpc() -> None:
    prod = _plan(PROJECT_DIR / "stacks" / "Pulumi.prod.yaml")
    children = _children(prod, "prod-ecs")
    assert not set(children) & set(NETWORK_TYPES)
    assert "aws:iam/role:Role" in children
    group = inputs(prod.one("aws:ec2/securityGroup:SecurityGroup", "prod-ecs-security-group"))
    assert group["vpcId"] == "vpc-0c4f2a9e71b35d864"
    defaults = prod.outputs["pools"]["prod-ecs"]["template_defaults"]
    assert defaults["network_configuration"]["assignPublicIp"] == "DISABLED"
    assert defaults["task_role_arn"].endswith(":role/prod-ecs-task-role")


_PLAN_IN_A_FRESH_PROCESS = """
import contextlib, io, json, sys
from pushpools_tools.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["plan", "--stack-file", sys.argv[1], "--json"])
sdks = {"pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_azuread"}
loaded = sorted({m.split(".")[0] for m in sys.modules} & sdks)
print(json.dumps({"code": code, "plan": out.getvalue(), "sdks": loaded}))
"""


def test_an_aws_only_stack_imports_no_other_cloud_sdk_and_prints_no_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PLAN_IN_A_FRESH_PROCESS, str(AWS_ONLY)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["sdks"] == ["pulumi_aws"]
    plan = json.loads(report["plan"])
    assert {r["type"] for r in plan["resources"]} >= {"aws:ecs/cluster:Cluster", "aws:ec2/vpc:Vpc"}
    secret = outputs(_plan(AWS_ONLY).one("aws:iam/accessKey:AccessKey"))["secret"]
    assert secret not in result.stdout
    assert secret not in result.stderr
