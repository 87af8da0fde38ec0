"""The ECS pool's resource graph: what `pulumi up` would create, and how it is wired."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import json
from typing import Any

import pulumi
import pytest
import yaml

from pushpools.components.aws.fargate_zones import fargate_zones
from pushpools.components.aws.settings import EcsSettings
from pushpools.components.pool_args import ComponentArgsError
from pushpools_tools.engine import (
    ProgramRun,
    Registration,
    is_secret,
    reveal,
    run_program,
)
from pushpools_tools.plan import run_stack
from pushpools_tools.provider_mocks import aws as aws_mocks
from tests.harness import (
    PROJECT_DIR,
    config_problems,
    inputs,
    outputs,
    retain_on_delete_requests,
    run_config,
    run_pools,
    settings_for,
)

ACCOUNT = "123456789012"  # the account the AWS provider mock answers with
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonECS_FullAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
CUSTOM_POLICY = "arn:aws:iam::210987654321:policy/flows/warehouse-writer"
EXISTING_VPC = "vpc-0a1b2c3d4e5f60718"
EXISTING_SUBNETS = ["subnet-0a1b2c3d4e5f60719", "subnet-0a1b2c3d4e5f6071a"]
PREFECT_CLOUD = (
    "https://api.prefect.cloud/api/accounts/0b8f9c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e/"
    "workspaces/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER = "aws:iam/user:User"
POLICY = "aws:iam/policy:Policy"
USER_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
VPC = "aws:ec2/vpc:Vpc"
GATEWAY = "aws:ec2/internetGateway:InternetGateway"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
NETWORK_TYPES = (VPC, GATEWAY, SUBNET, ROUTE_TABLE, ROUTE_ASSOCIATION)


def _ecs_pool(name: str = "dev-ecs", **aws: Any) -> dict[str, Any]:
    return {"name": name, "type": "ecs:push", "aws": {"region": "us-east-1", **aws}}


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    """A pool with nothing but a region: derived names, a new VPC."""
    return run_pools(_ecs_pool(), labels={"team": "data-platform"})


@pytest.fixture(scope="module")
def custom_run() -> ProgramRun:
    """A pool that sets every opt-in: existing VPC, task role, full access, other names."""
    return run_pools(
        _ecs_pool(
            "prod-ecs",
            region="eu-central-1",
            names={"cluster": "prod-flows", "log_group": "/prefect/prod", "repository": "prod/f"},
            network={
                "vpc_id": EXISTING_VPC,
                "subnet_ids": EXISTING_SUBNETS,
                "assign_public_ip": False,
            },
            task_role={"managed_policy_arns": [S3_READ, CUSTOM_POLICY]},
            log_retention_days=365,
            container_insights="enhanced",
            launch_type="FARGATE_SPOT",
            ecr={"immutable_tags": True, "keep_last_images": 25},
            attach_ecs_full_access=True,
            existing_user_name="ci-prefect",
            key_generation=3,
        )
    )


def _policy_document(run: ProgramRun, type_: str, name: str) -> dict[str, Any]:
    return json.loads(inputs(run.one(type_, name))["policy"])


def _arn(run: ProgramRun, type_: str, name: str) -> str:
    return outputs(run.one(type_, name))["arn"]


def _statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    (statement,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return statement


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _aws_resources(run: ProgramRun) -> list[Registration]:
    return [r for r in run.resources if r.type.startswith("aws:")]


# --- what gets created -------------------------------------------------------------


def test_a_default_pool_creates_everything_an_ecs_push_pool_needs(default_run: ProgramRun) -> None:
    declared = sorted((r.type, r.name) for r in _aws_resources(default_run))
    zones = ("us-east-1a", "us-east-1b", "us-east-1c")
    assert declared == sorted(
        [
            (ROLE, "dev-ecs-execution-role"),
            (ROLE_ATTACHMENT, "dev-ecs-execution-role-policy"),
            (ROLE_POLICY, "dev-ecs-execution-role-logs"),
            (LOG_GROUP, "dev-ecs-logs"),
            (REPOSITORY, "dev-ecs-images"),
            (LIFECYCLE, "dev-ecs-images-lifecycle"),
            (CLUSTER, "dev-ecs-cluster"),
            (CAPACITY, "dev-ecs-capacity-providers"),
            (VPC, "dev-ecs-vpc"),
            (GATEWAY, "dev-ecs-internet-gateway"),
            (ROUTE_TABLE, "dev-ecs-public-routes"),
            *[(SUBNET, f"dev-ecs-public-{zone}") for zone in zones],
            *[(ROUTE_ASSOCIATION, f"dev-ecs-public-{zone}-routes") for zone in zones],
            (SECURITY_GROUP, "dev-ecs-security-group"),
            (USER, "dev-ecs-prefect-user"),
            (POLICY, "dev-ecs-prefect-policy"),
            (USER_ATTACHMENT, "dev-ecs-prefect-policy-attachment"),
            (ACCESS_KEY, "dev-ecs-access-key-1"),
        ]
    )


def test_every_resource_is_a_child_of_the_pool_component(default_run: ProgramRun) -> None:
    component = default_run.one("pushpools:aws:EcsPushPool", "dev-ecs")
    assert {r.parent for r in _aws_resources(default_run)} == {component.urn}


def test_physical_names_are_derived_from_the_pool_name(default_run: ProgramRun) -> None:
    names = {
        (ROLE, "dev-ecs-execution-role"): "dev-ecs-execution-role",
        (USER, "dev-ecs-prefect-user"): "dev-ecs-prefect",
        (POLICY, "dev-ecs-prefect-policy"): "dev-ecs-prefect-policy",
        (CLUSTER, "dev-ecs-cluster"): "dev-ecs-cluster",
        (REPOSITORY, "dev-ecs-images"): "dev-ecs-flows",
        (SECURITY_GROUP, "dev-ecs-security-group"): "dev-ecs-tasks",
        (LOG_GROUP, "dev-ecs-logs"): "/ecs/dev-ecs-cluster",
    }
    for (type_, name), physical in names.items():
        assert inputs(default_run.one(type_, name))["name"] == physical
    assert inputs(default_run.one(VPC))["tags"]["Name"] == "dev-ecs-vpc"


def test_helper_naming_gives_exactly_the_helpers_names() -> None:
    run = run_pools({**_ecs_pool(task_role={}), "naming": "helper"})
    names = {
        (ROLE, "dev-ecs-execution-role"): "PrefectEcsTaskExecutionRole",
        (ROLE, "dev-ecs-task-role"): "PrefectEcsTaskRole",
        (USER, "dev-ecs-prefect-user"): "prefect-ecs-user",
        (POLICY, "dev-ecs-prefect-policy"): "prefect-ecs-policy",
        (CLUSTER, "dev-ecs-cluster"): "prefect-ecs-cluster",
        (REPOSITORY, "dev-ecs-images"): "prefect-flows",
        (SECURITY_GROUP, "dev-ecs-security-group"): "prefect-ecs-security-group",
        (LOG_GROUP, "dev-ecs-logs"): "/ecs/prefect-ecs-cluster",
    }
    for (type_, name), physical in names.items():
        assert inputs(run.one(type_, name))["name"] == physical
    assert inputs(run.one(VPC))["tags"]["Name"] == "prefect-ecs-vpc"


def test_a_name_given_wins_over_helper_naming() -> None:
    run = run_pools({**_ecs_pool(names={"cluster": "flows"}), "naming": "helper"})
    assert inputs(run.one(CLUSTER))["name"] == "flows"
    assert inputs(run.one(USER))["name"] == "prefect-ecs-user"


def test_regional_resources_are_created_in_the_pools_region(custom_run: ProgramRun) -> None:
    regional = [r for r in _aws_resources(custom_run) if not r.type.startswith("aws:iam/")]
    assert regional
    assert {inputs(r)["region"] for r in regional} == {"eu-central-1"}


# --- the roles ---------------------------------------------------------------------


def test_the_execution_role_trusts_only_ecs_tasks(default_run: ProgramRun) -> None:
    role = inputs(default_run.one(ROLE, "dev-ecs-execution-role"))
    assert json.loads(role["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def test_the_execution_role_has_the_managed_policy_and_may_create_its_log_group(
    default_run: ProgramRun,
) -> None:
    attachment = inputs(default_run.one(ROLE_ATTACHMENT, "dev-ecs-execution-role-policy"))
    assert attachment == {"role": "dev-ecs-execution-role", "policyArn": EXECUTION_POLICY}
    log_group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/ecs/dev-ecs-cluster"
    assert _arn(default_run, LOG_GROUP, "dev-ecs-logs") == log_group_arn
    inline = inputs(default_run.one(ROLE_POLICY, "dev-ecs-execution-role-logs"))
    assert inline["role"] == "dev-ecs-execution-role"
    assert json.loads(inline["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateThisPoolsLogGroup",
                "Effect": "Allow",
                "Action": "logs:CreateLogGroup",
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            }
        ],
    }


def test_no_task_role_unless_configured(default_run: ProgramRun) -> None:
    assert [inputs(r)["name"] for r in default_run.find(ROLE)] == ["dev-ecs-execution-role"]
    defaults = reveal(default_run.outputs)["pools"]["dev-ecs"]["template_defaults"]
    assert "task_role_arn" not in defaults


def test_the_task_role_trusts_ecs_tasks_and_gets_the_configured_policies(
    custom_run: ProgramRun,
) -> None:
    role = inputs(custom_run.one(ROLE, "prod-ecs-task-role"))
    assert role["name"] == "prod-ecs-task-role"
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attached = {
        inputs(r)["policyArn"]
        for r in custom_run.find(ROLE_ATTACHMENT)
        if inputs(r)["role"] == "prod-ecs-task-role"
    }
    assert attached == {S3_READ, CUSTOM_POLICY}
    names = {r.name for r in custom_run.find(ROLE_ATTACHMENT) if "task-role" in r.name}
    assert names == {
        "prod-ecs-task-role-aws-policy-amazons3readonlyaccess",
        "prod-ecs-task-role-210987654321-policy-flows-warehouse-writer",
    }


# --- logs, cluster, registry -------------------------------------------------------


def test_the_log_group_keeps_logs_as_long_as_configured(
    default_run: ProgramRun, custom_run: ProgramRun
) -> None:
    assert inputs(default_run.one(LOG_GROUP))["retentionInDays"] == 30
    custom = inputs(custom_run.one(LOG_GROUP))
    assert (custom["name"], custom["retentionInDays"]) == ("/prefect/prod", 365)


def test_null_retention_keeps_logs_forever() -> None:
    run = run_pools(_ecs_pool(log_retention_days=None))
    assert "retentionInDays" not in inputs(run.one(LOG_GROUP))


def test_the_cluster_offers_fargate_and_fargate_spot(
    default_run: ProgramRun, custom_run: ProgramRun
) -> None:
    cluster = inputs(default_run.one(CLUSTER))
    assert cluster["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    capacity = inputs(default_run.one(CAPACITY))
    assert capacity["clusterName"] == "dev-ecs-cluster"
    assert capacity["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert capacity["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "weight": 1}
    ]
    custom = inputs(custom_run.one(CLUSTER))
    assert custom["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    assert inputs(custom_run.one(CAPACITY))["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 1}
    ]


def test_the_repository_scans_on_push_and_keeps_the_last_images(
    default_run: ProgramRun, custom_run: ProgramRun
) -> None:
    repository = inputs(default_run.one(REPOSITORY))
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["imageTagMutability"] == "MUTABLE"
    lifecycle = inputs(default_run.one(LIFECYCLE))
    assert lifecycle["repository"] == "dev-ecs-flows"
    assert json.loads(lifecycle["policy"]) == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep the newest 100 images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 100,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    assert inputs(custom_run.one(REPOSITORY))["imageTagMutability"] == "IMMUTABLE"
    custom_rule = json.loads(inputs(custom_run.one(LIFECYCLE))["policy"])["rules"][0]
    assert custom_rule["selection"]["countNumber"] == 25


# --- the network -------------------------------------------------------------------


def test_a_new_vpc_gets_public_subnets_in_three_zones_from_the_invoke(
    default_run: ProgramRun,
) -> None:
    zone_invokes = [
        args
        for token, args in default_run.invokes
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones"
    ]
    assert zone_invokes == [
        {
            "region": "us-east-1",
            "state": "available",
            "filters": [{"name": "zone-type", "values": ["availability-zone"]}],
        }
    ]
    vpc = default_run.one(VPC)
    vpc_id = outputs(vpc)["id"]
    assert inputs(vpc)["cidrBlock"] == "10.0.0.0/16"
    assert inputs(vpc)["enableDnsHostnames"] is True
    subnets = {inputs(s)["availabilityZone"]: inputs(s) for s in default_run.find(SUBNET)}
    # us-east-1 has six zones; the subnets take the first three.
    assert sorted(subnets) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert {s["vpcId"] for s in subnets.values()} == {vpc_id}
    cidrs = [ipaddress.ip_network(subnets[z]["cidrBlock"]) for z in sorted(subnets)]
    assert [str(c) for c in cidrs] == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]


def test_an_opted_in_local_zone_gets_no_subnet() -> None:
    # The mocked account opted into us-west-2-lax-1a, which sorts before us-west-2a;
    # Fargate does not run in Local Zones, so a subnet there would break every task.
    run = run_pools(_ecs_pool(region="us-west-2"))
    zones = sorted(inputs(s)["availabilityZone"] for s in run.find(SUBNET))
    assert zones == ["us-west-2a", "us-west-2b", "us-west-2c"]


def test_a_region_with_other_zone_names_uses_the_names_aws_lists() -> None:
    # The mocked account still sees ap-northeast-1b (apne1-az3), where Fargate does not run.
    run = run_pools(_ecs_pool(region="ap-northeast-1", network={"cidr_block": "172.20.0.0/20"}))
    subnets = sorted(
        (inputs(s)["availabilityZone"], inputs(s)["cidrBlock"]) for s in run.find(SUBNET)
    )
    # Each subnet keeps the quarter of its zone's place in the list: 1b's stays free, so
    # that a stack made before 1b was skipped keeps 1c's subnet as it is.
    assert subnets == [
        ("ap-northeast-1a", "172.20.0.0/22"),
        ("ap-northeast-1c", "172.20.8.0/22"),
        ("ap-northeast-1d", "172.20.12.0/22"),
    ]


# Where AWS documents Linux containers on Fargate in some zone IDs only ("Supported Regions
# for Amazon ECS on AWS Fargate"); the mocked account maps names to IDs its own way.
@pytest.mark.parametrize(
    ("region", "zone_ids"),
    [
        ("us-west-1", {"usw1-az1", "usw1-az3"}),
        ("ap-northeast-1", {"apne1-az1", "apne1-az2", "apne1-az4"}),
    ],
)
def test_subnets_go_only_to_zone_ids_where_fargate_runs(region: str, zone_ids: set[str]) -> None:
    run = run_pools(_ecs_pool(region=region))
    placed = {outputs(s)["availabilityZoneId"] for s in run.find(SUBNET)}
    assert placed == zone_ids


def test_two_fargate_zones_get_two_subnets_and_keep_their_quarters() -> None:
    run = run_pools(_ecs_pool(region="us-west-1"))
    subnets = sorted(
        (inputs(s)["availabilityZone"], inputs(s)["cidrBlock"]) for s in run.find(SUBNET)
    )
    assert subnets == [("us-west-1a", "10.0.0.0/18"), ("us-west-1c", "10.0.128.0/18")]
    defaults = run.outputs["pools"]["dev-ecs"]["template_defaults"]
    assert len(defaults["network_configuration"]["subnets"]) == 2


def test_the_zone_filter_goes_by_zone_id_not_by_name() -> None:
    # An account whose us-east-1b is use1-az3: the filter must skip it by its ID.
    names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"]
    ids = ["use1-az2", "use1-az3", "use1-az6", "use1-az1", "use1-az4"]
    assert fargate_zones("us-east-1", names, ids, slots=4, limit=3) == [
        ("us-east-1a", 0),
        ("us-east-1c", 2),
        ("us-east-1d", 3),
    ]
    # Everywhere else every standard zone runs Fargate: the first ones in name order.
    names = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]
    ids = ["euw1-az1", "euw1-az2", "euw1-az3"]
    assert fargate_zones("eu-west-1", names, ids, slots=4, limit=2) == [
        ("eu-west-1a", 0),
        ("eu-west-1b", 1),
    ]


def test_the_subnets_route_to_the_internet_through_the_vpcs_gateway(
    default_run: ProgramRun,
) -> None:
    vpc_id = outputs(default_run.one(VPC))["id"]
    gateway = default_run.one(GATEWAY)
    assert inputs(gateway)["vpcId"] == vpc_id
    routes = default_run.one(ROUTE_TABLE)
    assert inputs(routes)["vpcId"] == vpc_id
    assert inputs(routes)["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "gatewayId": outputs(gateway)["id"]}
    ]
    subnet_ids = {outputs(s)["id"] for s in default_run.find(SUBNET)}
    associations = [inputs(a) for a in default_run.find(ROUTE_ASSOCIATION)]
    assert {a["subnetId"] for a in associations} == subnet_ids
    assert {a["routeTableId"] for a in associations} == {outputs(routes)["id"]}


def test_the_security_group_allows_egress_only(default_run: ProgramRun) -> None:
    group = inputs(default_run.one(SECURITY_GROUP))
    assert group["vpcId"] == outputs(default_run.one(VPC))["id"]
    assert group["ingress"] == []
    assert group["egress"] == [
        {
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
            "description": "All outbound traffic",
        }
    ]


def test_an_existing_vpc_gets_only_a_security_group(custom_run: ProgramRun) -> None:
    for type_ in NETWORK_TYPES:
        assert custom_run.find(type_) == [], type_
    assert not [t for t, _ in custom_run.invokes if "AvailabilityZones" in t]
    assert inputs(custom_run.one(SECURITY_GROUP))["vpcId"] == EXISTING_VPC


# --- Prefect's identity ------------------------------------------------------------


def test_the_prefect_policy_holds_what_prefects_ecs_code_calls_on_this_pools_resources(
    default_run: ProgramRun,
) -> None:
    region = f"us-east-1:{ACCOUNT}"
    cluster = f"arn:aws:ecs:{region}:cluster/dev-ecs-cluster"
    families = f"arn:aws:ecs:{region}:task-definition/prefect_dev-ecs_*"
    tasks = f"arn:aws:ecs:{region}:task/dev-ecs-cluster/*"
    log_group = f"arn:aws:logs:{region}:log-group:/ecs/dev-ecs-cluster"
    assert _arn(default_run, CLUSTER, "dev-ecs-cluster") == cluster
    policy = inputs(default_run.one(POLICY))
    assert policy["name"] == "dev-ecs-prefect-policy"
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadInThisPoolsRegion",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "ecs:DeregisterTaskDefinition",
                    "ecs:DescribeTaskDefinition",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            },
            {
                "Sid": "ThisPoolsTaskDefinitions",
                "Effect": "Allow",
                "Action": "ecs:RegisterTaskDefinition",
                "Resource": families,
            },
            {
                "Sid": "RunTasksOnThisPoolsCluster",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": families,
                "Condition": {"ArnEquals": {"ecs:cluster": cluster}},
            },
            {
                "Sid": "TagTasksAsTheyStart",
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": tasks,
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                "Sid": "TasksOnThisPoolsCluster",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": tasks,
            },
            {
                "Sid": "ReadThisPoolsLogStreams",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": f"{log_group}:log-stream:*",
            },
            {
                "Sid": "AllowPassRoleForEcs",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [f"arn:aws:iam::{ACCOUNT}:role/dev-ecs-execution-role"],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        ],
    }


def test_the_policy_is_attached_to_the_pools_own_user(default_run: ProgramRun) -> None:
    user = inputs(default_run.one(USER))
    assert user["name"] == "dev-ecs-prefect"
    attachments = [inputs(a) for a in default_run.find(USER_ATTACHMENT)]
    assert attachments == [
        {
            "user": "dev-ecs-prefect",
            "policyArn": _arn(default_run, POLICY, "dev-ecs-prefect-policy"),
        }
    ]
    assert inputs(default_run.one(ACCESS_KEY))["user"] == "dev-ecs-prefect"


def test_pass_role_names_the_execution_and_task_roles_only(custom_run: ProgramRun) -> None:
    statement = _statement(
        _policy_document(custom_run, POLICY, "prod-ecs-prefect-policy"), "AllowPassRoleForEcs"
    )
    assert statement["Resource"] == [
        _arn(custom_run, ROLE, "prod-ecs-execution-role"),
        _arn(custom_run, ROLE, "prod-ecs-task-role"),
    ]
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


def test_the_key_reaches_no_security_group_even_in_an_existing_vpc(
    custom_run: ProgramRun,
) -> None:
    # Prefect's ECS code never creates, opens or tags a security group (only the helper
    # does, with an admin's credentials): in a shared VPC the key must not reach them.
    document = _policy_document(custom_run, POLICY, "prod-ecs-prefect-policy")
    actions = {a for s in document["Statement"] for a in _listed(s["Action"])}
    assert not {a for a in actions if a.startswith("ec2:") and not a.startswith("ec2:Describe")}
    assert EXISTING_VPC not in json.dumps(document)


def test_ecs_full_access_is_attached_only_when_opted_in(
    default_run: ProgramRun, custom_run: ProgramRun
) -> None:
    assert ECS_FULL_ACCESS not in {
        inputs(a)["policyArn"] for a in default_run.find(USER_ATTACHMENT)
    }
    full = inputs(custom_run.one(USER_ATTACHMENT, "prod-ecs-ecs-full-access"))
    assert full == {"user": "ci-prefect", "policyArn": ECS_FULL_ACCESS}


def test_an_existing_user_gets_the_policy_and_a_key_but_is_not_created(
    custom_run: ProgramRun,
) -> None:
    assert custom_run.find(USER) == []
    own = inputs(custom_run.one(USER_ATTACHMENT, "prod-ecs-prefect-policy-attachment"))
    assert own == {
        "user": "ci-prefect",
        "policyArn": _arn(custom_run, POLICY, "prod-ecs-prefect-policy"),
    }
    assert inputs(custom_run.one(ACCESS_KEY))["user"] == "ci-prefect"


def test_an_existing_users_key_rule_is_stated_where_it_is_set() -> None:
    # A rotation holds the old and the new key at once and IAM allows two per user: an
    # existing user must hold no other key when key_generation is bumped. pushpools cannot
    # see the user's keys, so the setting itself and the ECS page must say so.
    description = EcsSettings.model_fields["existing_user_name"].description or ""
    assert "must hold no other key when key_generation is bumped" in description
    page = (PROJECT_DIR / "docs" / "aws-ecs.md").read_text()
    assert "### An existing user's keys" in page
    assert "Cannot exceed quota for AccessKeysPerUser: 2" in page


def test_a_rotation_that_aws_refuses_leaves_the_block_on_the_old_key() -> None:
    """The block's data comes from the new key only: if AWS refuses to create it (a third
    key for an existing user), the block is not updated, and Pulumi deletes the key that
    left the program only after every create and update succeeded."""
    run = run_config(
        {
            "pushpools:pools": [_ecs_pool(existing_user_name="ci-prefect", key_generation=2)],
            "pushpools:prefect": {"api_url": PREFECT_CLOUD},
            "pushpools:prefectApiKey": "pnu_test",
        },
        secret_keys=["pushpools:prefectApiKey"],
    )
    new_key = run.one(ACCESS_KEY, "dev-ecs-access-key-2")
    assert [k.name for k in run.find(ACCESS_KEY)] == ["dev-ecs-access-key-2"]
    block = run.one("pulumi-python:dynamic/prefect:Block", "dev-ecs-credentials-block")
    assert new_key.urn in block.dependencies


def test_two_pools_get_two_users_each_allowed_only_its_own_resources() -> None:
    # Derived names: two pools in one account need no names of their own.
    run = run_pools(_ecs_pool("etl-ecs"), _ecs_pool("batch-ecs"))
    users = {r.name: inputs(r)["name"] for r in run.find(USER)}
    assert users == {
        "etl-ecs-prefect-user": "etl-ecs-prefect",
        "batch-ecs-prefect-user": "batch-ecs-prefect",
    }
    keys = {r.name: inputs(r)["user"] for r in run.find(ACCESS_KEY)}
    assert keys == {
        "etl-ecs-access-key-1": "etl-ecs-prefect",
        "batch-ecs-access-key-1": "batch-ecs-prefect",
    }
    for pool, role, cluster in [
        ("etl-ecs", "etl-ecs-execution-role", "etl-ecs-cluster"),
        ("batch-ecs", "batch-ecs-execution-role", "batch-ecs-cluster"),
    ]:
        document = _policy_document(run, POLICY, f"{pool}-prefect-policy")
        assert _statement(document, "AllowPassRoleForEcs")["Resource"] == [
            f"arn:aws:iam::{ACCOUNT}:role/{role}"
        ]
        run_task = _statement(document, "RunTasksOnThisPoolsCluster")
        assert run_task["Resource"].endswith(f":task-definition/prefect_{pool}_*")
        assert run_task["Condition"]["ArnEquals"]["ecs:cluster"].endswith(f":cluster/{cluster}")
    outputs_ = reveal(run.outputs)
    assert {p["data"]["aws_access_key_id"] for p in outputs_["credentials_blocks"].values()} == {
        outputs(k)["id"] for k in run.find(ACCESS_KEY)
    }


# --- the key and the outputs -------------------------------------------------------


def test_the_access_keys_secret_is_secret_from_birth(default_run: ProgramRun) -> None:
    key = default_run.one(ACCESS_KEY)
    assert is_secret(key.outputs["secret"])
    assert not is_secret(key.outputs["id"])
    assert is_secret(default_run.outputs["credentials_blocks"])


def test_the_credentials_block_payload(default_run: ProgramRun) -> None:
    key = outputs(default_run.one(ACCESS_KEY))
    blocks = reveal(default_run.outputs["credentials_blocks"])
    assert blocks == {
        "dev-ecs": {
            "type_slug": "aws-credentials",
            "name": "dev-ecs-aws-credentials",
            "data": {
                "aws_access_key_id": key["id"],
                "aws_secret_access_key": key["secret"],
                "region_name": "us-east-1",
            },
        }
    }


def test_the_secret_is_nowhere_in_the_plain_outputs(default_run: ProgramRun) -> None:
    secret = outputs(default_run.one(ACCESS_KEY))["secret"]
    assert len(secret) == 40
    pools = default_run.outputs["pools"]
    assert not is_secret(pools)
    assert secret not in json.dumps(pools)
    summary = pools["dev-ecs"]
    assert summary["credentials_block"] == {
        "type_slug": "aws-credentials",
        "name": "dev-ecs-aws-credentials",
        "variable": "aws_credentials",
    }


def test_the_template_defaults_point_at_the_pools_infrastructure(default_run: ProgramRun) -> None:
    pool = default_run.outputs["pools"]["dev-ecs"]
    subnets = [outputs(s)["id"] for s in sorted(default_run.find(SUBNET), key=lambda r: r.name)]
    assert pool["template_defaults"] == {
        "cluster": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/dev-ecs-cluster",
        "execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/dev-ecs-execution-role",
        "vpc_id": outputs(default_run.one(VPC))["id"],
        "network_configuration": {
            "subnets": subnets,
            "securityGroups": [outputs(default_run.one(SECURITY_GROUP))["id"]],
            "assignPublicIp": "ENABLED",
        },
        "configure_cloudwatch_logs": True,
        "cloudwatch_logs_options": {
            "awslogs-group": "/ecs/dev-ecs-cluster",
            "awslogs-region": "us-east-1",
        },
        "launch_type": "FARGATE",
    }
    assert pool["image_namespace"] == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/dev-ecs-flows"


def test_an_existing_network_and_task_role_reach_the_template(custom_run: ProgramRun) -> None:
    defaults = custom_run.outputs["pools"]["prod-ecs"]["template_defaults"]
    assert defaults["task_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/prod-ecs-task-role"
    assert defaults["vpc_id"] == EXISTING_VPC
    assert defaults["network_configuration"] == {
        "subnets": EXISTING_SUBNETS,
        "securityGroups": [outputs(custom_run.one(SECURITY_GROUP))["id"]],
        "assignPublicIp": "DISABLED",
    }
    assert defaults["launch_type"] == "FARGATE_SPOT"
    assert defaults["cloudwatch_logs_options"]["awslogs-group"] == "/prefect/prod"


def test_bumping_key_generation_declares_a_new_key_for_the_block() -> None:
    # A new logical key: Pulumi creates it and updates the block before it deletes the
    # key that left the program, so Prefect never holds a deleted key.
    first = run_pools(_ecs_pool())
    second = run_pools(_ecs_pool(key_generation=2))
    assert [k.name for k in first.find(ACCESS_KEY)] == ["dev-ecs-access-key-1"]
    assert [k.name for k in second.find(ACCESS_KEY)] == ["dev-ecs-access-key-2"]
    new_key = outputs(second.one(ACCESS_KEY))
    data = reveal(second.outputs["credentials_blocks"])["dev-ecs"]["data"]
    assert data["aws_access_key_id"] == new_key["id"] != outputs(first.one(ACCESS_KEY))["id"]
    assert data["aws_secret_access_key"] == new_key["secret"]


# --- tags --------------------------------------------------------------------------


def _accepts_tags(type_token: str) -> bool:
    """Whether the provider's resource takes `tags`, read from the SDK's own signature."""
    module, _, class_name = type_token.removeprefix("aws:").partition(":")
    sdk_module = importlib.import_module(f"pulumi_aws.{module.split('/')[0]}")
    return "tags" in inspect.signature(getattr(sdk_module, class_name)._internal_init).parameters


@pytest.mark.parametrize("run_name", ["default_run", "custom_run"])
def test_every_taggable_resource_carries_the_common_tags(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: ProgramRun = request.getfixturevalue(run_name)
    pool = "dev-ecs" if run_name == "default_run" else "prod-ecs"
    common = {"managed-by": "pushpools", "prefect-work-pool": pool}
    if run_name == "default_run":
        common["team"] = "data-platform"
    taggable = [r for r in _aws_resources(run) if _accepts_tags(r.type)]
    assert len(taggable) == (13 if run_name == "default_run" else 7)
    for resource in taggable:
        tags = inputs(resource).get("tags")
        assert tags is not None, f"{resource.type} {resource.name} has no tags"
        extra = {k: v for k, v in tags.items() if k not in common}
        assert {k: tags[k] for k in common} == common, resource.name
        # Only network resources add a Name, for the console.
        assert set(extra) <= {"Name"}, resource.name
        assert ("Name" in extra) == (resource.type in NETWORK_TYPES), resource.name


def test_network_resources_are_named_as_the_helper_names_its_vpc(default_run: ProgramRun) -> None:
    assert inputs(default_run.one(VPC))["tags"]["Name"] == "dev-ecs-vpc"
    subnet = inputs(default_run.one(SUBNET, "dev-ecs-public-us-east-1b"))
    assert subnet["tags"]["Name"] == "dev-ecs-vpc-public-us-east-1b"


def test_the_deployment_snippet_tags_the_repository_itself(default_run: ProgramRun) -> None:
    # An ECR repository holds one image: `<repository_url>:<tag>`, not `<url>/<image>:<tag>`.
    snippet = yaml.safe_load(default_run.outputs["prefect_yaml"]["dev-ecs"])
    assert snippet["work_pool"]["job_variables"]["image"] == (
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/dev-ecs-flows:<tag>"
    )


# --- the ECS service-linked role -----------------------------------------------------

SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
GET_ROLE = "aws:iam/getRole:getRole"


def test_by_default_the_service_linked_role_is_looked_up_never_created(
    default_run: ProgramRun,
) -> None:
    assert [args for token, args in default_run.invokes if token == GET_ROLE] == [
        {"name": "AWSServiceRoleForECS"}
    ]
    assert default_run.find(SERVICE_LINKED_ROLE) == []


def test_an_account_without_the_role_stops_the_preview_before_anything_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_mocks, "ACCOUNT_ROLES", {})  # a fresh account
    record = ProgramRun(project="pushpools", stack="test")
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(PROJECT_DIR, settings_for({"pushpools:pools": [_ecs_pool()]}), record=record)
    assert [r for r in record.resources if r.custom] == []
    assert str(caught.value) == (
        "pool 'dev-ecs': aws.create_service_linked_role is false, but this AWS account has no "
        "ECS service-linked role AWSServiceRoleForECS, which the cluster's capacity providers "
        "need (a fresh account may not have it yet); set aws.create_service_linked_role: true "
        "in one stack of this account (its deploy identity needs iam:CreateServiceLinkedRole), "
        "or create it once: aws iam create-service-linked-role --aws-service-name "
        "ecs.amazonaws.com"
    )


def test_a_failed_lookup_names_the_permission_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(args: Any) -> dict[str, Any]:
        raise aws_mocks.ProviderError(
            "invoking aws:iam/getRole:getRole: 1 error occurred: * reading IAM Role "
            "(AWSServiceRoleForECS): operation error IAM: GetRole, StatusCode: 403, "
            "AccessDenied: User: deployer is not authorized to perform: iam:GetRole"
        )

    monkeypatch.setitem(aws_mocks.CALLS, GET_ROLE, denied)
    with pytest.raises(pulumi.RunError, match="the deploy identity needs iam:GetRole on it"):
        run_pools(_ecs_pool())


def test_created_once_for_the_stack_retained_and_every_cluster_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_mocks, "ACCOUNT_ROLES", {})  # a fresh account
    retained = retain_on_delete_requests(monkeypatch)
    run = run_pools(
        _ecs_pool("etl-ecs", create_service_linked_role=True),
        _ecs_pool("batch-ecs", region="eu-west-1", create_service_linked_role=True),
    )
    role = run.one(SERVICE_LINKED_ROLE, "ecs-service-linked-role")
    assert inputs(role) == {"awsServiceName": "ecs.amazonaws.com"}
    # At the stack's level: removing one pool never removes it.
    assert str(role.parent).endswith("::pulumi:pulumi:Stack::pushpools-test")
    assert outputs(role)["arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    )
    # Destroying the stack leaves it: other stacks' clusters rely on it.
    assert retained["ecs-service-linked-role"] is True
    for cluster in run.find(CLUSTER):
        assert role.urn in cluster.dependencies, cluster.name
    assert not [t for t, _ in run.invokes if t == GET_ROLE]


def test_pools_of_a_stack_that_disagree_about_the_role_are_refused() -> None:
    problems = config_problems(
        {
            "pushpools:pools": [
                _ecs_pool("etl-ecs", create_service_linked_role=True),
                _ecs_pool("batch-ecs"),
            ]
        }
    )
    assert problems == [
        "pushpools:pools[1].aws.create_service_linked_role: false disagrees with pool "
        "'etl-ecs' (aws.create_service_linked_role: true); the ECS service-linked role "
        "AWSServiceRoleForECS is one per account, which this stack either creates or looks "
        "up, so every pool of the stack says the same; allowed: true, or change pool "
        "'etl-ecs' too"
    ]


def test_a_program_whose_components_disagree_about_the_role_is_stopped() -> None:
    from pushpools.components.aws.pool import EcsPushPool

    def program() -> None:
        EcsPushPool("etl-ecs", {"region": "us-east-1", "create_service_linked_role": True})
        EcsPushPool("batch-ecs", {"region": "us-east-1"})

    record = ProgramRun(project="my-platform", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run_program(
            program, project="my-platform", stack="dev", config={}, secret_keys=[], record=record
        )
    assert caught.value.problems == [
        "aws.create_service_linked_role: false disagrees with pool 'etl-ecs' of this program "
        "(true); the ECS service-linked role AWSServiceRoleForECS is one per account, which "
        "the program either creates or looks up; give every pool the same value"
    ]
    assert not [r for r in record.resources if r.parent and r.parent.endswith("::batch-ecs")]
