"""A bad ECS pool config is refused before anything is declared, naming the key to fix."""

from __future__ import annotations

from typing import Any

import pytest

from pushpools.components.aws.settings import AWS_REGIONS, LOG_RETENTION_DAYS, EcsSettings
from pushpools.components.naming import Naming
from tests.harness import config_problems


def _pool(name: str = "dev-ecs", type_: str = "ecs:push", **aws: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "aws": {"region": "eu-west-1", **aws}}


def _helper_named(name: str = "dev-ecs", **aws: Any) -> dict[str, Any]:
    return {**_pool(name, **aws), "naming": "helper"}


def _problems(*pools: dict[str, Any], labels: dict[str, str] | None = None) -> list[str]:
    config: dict[str, Any] = {"pushpools:pools": list(pools)}
    if labels is not None:
        config["pushpools:labels"] = labels
    return config_problems(config)


def _only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_an_unknown_region_is_refused_with_a_suggestion() -> None:
    problem = _only(_problems(_pool(region="eu-wset-1")))
    assert problem.startswith("pushpools:pools[0].aws.region: 'eu-wset-1' is not an AWS region")
    assert "(did you mean 'eu-west-1'?)" in problem
    assert "us-east-1" in problem  # the allowed list


def test_a_gcp_style_region_gets_the_aws_spelling_suggested() -> None:
    problem = _only(_problems(_pool(region="us-east1")))
    assert "pushpools:pools[0].aws.region: 'us-east1'" in problem
    assert "did you mean 'us-east-1'?" in problem


def test_regions_outside_the_commercial_partition_are_refused() -> None:
    # ARNs there start with arn:aws-cn / arn:aws-us-gov: the policies would not match.
    for region, partition in (("cn-north-1", "AWS China"), ("us-gov-west-1", "AWS GovCloud")):
        assert region not in AWS_REGIONS
        problem = _only(_problems(_pool(region=region)))
        assert problem.startswith(
            f"pushpools:pools[0].aws.region: {region!r} is in {partition} (partition "
        )
        assert "which pushpools does not support" in problem
        assert "did you mean" not in problem


def test_the_region_is_required() -> None:
    pool = {"name": "dev-ecs", "type": "ecs:push", "aws": {}}
    assert _only(_problems(pool)) == "pushpools:pools[0].aws.region: required, but not set"


def test_an_ecs_pool_without_an_aws_section_is_refused() -> None:
    problem = _only(_problems({"name": "dev-ecs", "type": "ecs:push"}))
    assert problem.startswith("pushpools:pools[0]:")
    assert "needs an 'aws' section" in problem


def test_a_misspelt_key_is_refused_and_the_allowed_keys_listed() -> None:
    problem = _only(_problems(_pool(log_retention=7)))
    assert problem.startswith("pushpools:pools[0].aws.log_retention: unknown key")
    assert "log_retention_days" in problem


def test_subnets_without_a_vpc_are_refused() -> None:
    problem = _only(_problems(_pool(network={"subnet_ids": ["subnet-0123456789abcdef0"]})))
    assert problem.startswith("pushpools:pools[0].aws.network.subnet_ids:")
    assert "subnet-0123456789abcdef0" in problem
    assert "without vpc_id" in problem


def test_a_vpc_without_subnets_is_refused() -> None:
    problem = _only(_problems(_pool(network={"vpc_id": "vpc-0123456789abcdef0"})))
    assert problem.startswith("pushpools:pools[0].aws.network.subnet_ids:")
    assert "vpc-0123456789abcdef0" in problem


def test_a_new_vpc_cidr_next_to_an_existing_vpc_is_refused() -> None:
    network = {
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "cidr_block": "10.1.0.0/16",
    }
    problem = _only(_problems(_pool(network=network)))
    assert problem.startswith("pushpools:pools[0].aws.network.cidr_block: '10.1.0.0/16'")


@pytest.mark.parametrize(
    ("cidr", "why"),
    [("10.0.0.0/8", "/16 to /24"), ("10.0.0.0/28", "/16 to /24"), ("10.0.0/16", "CIDR")],
)
def test_a_new_vpc_cidr_must_fit_aws_limits(cidr: str, why: str) -> None:
    problem = _only(_problems(_pool(network={"cidr_block": cidr})))
    assert problem.startswith(f"pushpools:pools[0].aws.network.cidr_block: {cidr!r}")
    assert why in problem


def test_malformed_vpc_and_subnet_ids_are_refused() -> None:
    network = {"vpc_id": "vpc-xyz", "subnet_ids": ["sub-0123456789abcdef0"]}
    problems = _problems(_pool(network=network))
    assert any(p.startswith("pushpools:pools[0].aws.network.vpc_id: 'vpc-xyz'") for p in problems)
    assert any(
        p.startswith("pushpools:pools[0].aws.network.subnet_ids: 'sub-0123456789abcdef0'")
        for p in problems
    )


def test_a_new_vpc_without_public_ips_is_refused() -> None:
    problem = _only(_problems(_pool(network={"assign_public_ip": False})))
    assert problem.startswith("pushpools:pools[0].aws.network.assign_public_ip:")
    assert "NAT" in problem


def test_a_malformed_managed_policy_arn_is_refused() -> None:
    arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::12345:policy/mine"]
    problem = _only(_problems(_pool(task_role={"managed_policy_arns": arns})))
    assert problem.startswith(
        "pushpools:pools[0].aws.task_role.managed_policy_arns: "
        "'arn:aws:iam::12345:policy/mine' is not an IAM managed policy ARN"
    )


def test_a_role_arn_is_not_a_policy_arn() -> None:
    arns = ["arn:aws:iam::123456789012:role/SomeRole"]
    problem = _only(_problems(_pool(task_role={"managed_policy_arns": arns})))
    assert "is not an IAM managed policy ARN" in problem


@pytest.mark.parametrize("days", [0, 2, 10, 366, 4000])
def test_a_retention_cloudwatch_does_not_allow_is_refused(days: int) -> None:
    problem = _only(_problems(_pool(log_retention_days=days)))
    assert problem.startswith(f"pushpools:pools[0].aws.log_retention_days: {days} is not")
    assert "1, 3, 5, 7, 14, 30" in problem
    assert "3653" in problem


def test_every_retention_cloudwatch_allows_is_accepted() -> None:
    for days in (*LOG_RETENTION_DAYS, None):
        settings = EcsSettings.model_validate({"region": "eu-west-1", "log_retention_days": days})
        assert settings.log_retention_days == days


@pytest.mark.parametrize("name", ["Prefect-Flows", "prefect flows", "-flows", "a", "flows/"])
def test_a_bad_repository_name_is_refused(name: str) -> None:
    problem = _only(_problems(_pool(names={"repository": name})))
    assert problem.startswith(f"pushpools:pools[0].aws.names.repository: {name!r}")
    assert "ECR repository name" in problem


def test_a_namespaced_repository_name_is_accepted() -> None:
    settings = EcsSettings.model_validate(
        {"region": "eu-west-1", "names": {"repository": "data-team/prefect_flows"}}
    )
    assert settings.names.repository == "data-team/prefect_flows"


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        ("execution_role", "Prefect Ecs Role", "IAM role name"),
        ("task_role", "x" * 65, "IAM role name"),
        ("user", "prefect/ecs", "IAM user name"),
        ("policy", "prefect ecs policy", "IAM policy name"),
        ("cluster", "prefect.ecs", "ECS cluster name"),
        ("security_group", "sg-prefect", "security group name"),
        ("log_group", "aws/prefect", "log group name"),
    ],
)
def test_bad_physical_names_are_refused(key: str, value: str, what: str) -> None:
    problem = _only(_problems(_pool(names={key: value})))
    assert problem.startswith(f"pushpools:pools[0].aws.names.{key}: {value!r}")
    assert what in problem


def test_the_task_role_cannot_be_the_execution_role() -> None:
    names = {"task_role": "DEV-ECS-execution-role"}  # IAM names ignore case
    problem = _only(_problems(_pool(names=names, task_role={})))
    assert problem == (
        "pushpools:pools[0].aws.names.task_role: IAM role 'dev-ecs-execution-role' (IAM names "
        "ignore case) in AWS account is also this pool's aws.names.execution_role; each needs "
        "a name of its own"
    )


def test_a_bad_existing_user_name_is_refused() -> None:
    problem = _only(_problems(_pool(existing_user_name="ci user")))
    assert problem.startswith("pushpools:pools[0].aws.existing_user_name: 'ci user'")


def test_two_pools_with_helper_names_collide_on_every_name_of_their_scope() -> None:
    problems = _problems(_helper_named("a-ecs"), _helper_named("b-ecs"))
    keys = {p.split(":", 2)[1].split(" ")[0] for p in problems}
    assert keys == {
        f"pools[1].aws.names.{n}"
        for n in ("execution_role", "user", "policy", "cluster", "repository", "log_group")
    }
    role = next(p for p in problems if ".names.execution_role:" in p)
    assert "IAM role 'prefectecstaskexecutionrole'" in role
    assert "in AWS account is already used by pool 'a-ecs'" in role


def test_pools_in_two_regions_collide_only_on_account_wide_iam_names() -> None:
    problems = _problems(_helper_named("a-ecs"), _helper_named("b-ecs", region="us-east-1"))
    keys = sorted(p.split(":", 2)[1].split(" ")[0] for p in problems)
    assert keys == [
        "pools[1].aws.names.execution_role",
        "pools[1].aws.names.policy",
        "pools[1].aws.names.user",
    ]


def test_iam_names_collide_regardless_of_case() -> None:
    second = _pool(
        "b-ecs",
        region="us-east-1",
        names={"execution_role": "A-ECS-EXECUTION-ROLE"},
    )
    problem = _only(_problems(_pool("a-ecs"), second))
    assert problem.startswith("pushpools:pools[1].aws.names.execution_role:")


def test_two_pools_cannot_share_an_existing_user() -> None:
    # The shared user is the helper's bug: IAM allows two keys per user.
    first = _pool("a-ecs", existing_user_name="ci-prefect")
    second = _pool(
        "b-ecs",
        region="us-east-1",
        existing_user_name="ci-prefect",
        names={"execution_role": "b-exec", "policy": "b-policy"},
    )
    problem = _only(_problems(first, second))
    assert problem.startswith("pushpools:pools[1].aws.existing_user_name: IAM user 'ci-prefect'")


def test_a_security_group_name_collides_only_within_one_existing_vpc() -> None:
    network = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"]}
    problem = _only(
        _problems(
            _pool("a-ecs", network=network),
            _pool("b-ecs", network=network, names={"security_group": "a-ecs-tasks"}),
        )
    )
    assert problem.startswith("pushpools:pools[1].aws.names.security_group:")
    assert "in VPC vpc-0123456789abcdef0" in problem


@pytest.mark.parametrize(
    ("labels", "key"),
    [
        ({"aws:team": "data"}, "aws:team"),
        ({"team": "x" * 257}, "team"),
        ({"k" * 129: "v"}, "k" * 129),
        ({"team": "data<platform>"}, "team"),
    ],
)
def test_labels_must_be_valid_aws_tags(labels: dict[str, str], key: str) -> None:
    problem = _only(_problems(_pool(), labels=labels))
    assert problem.startswith(f"pushpools:labels.{key}:")
    assert "AWS tag" in problem


def test_a_key_generation_below_one_is_refused() -> None:
    problem = _only(_problems(_pool(key_generation=0)))
    assert problem.startswith("pushpools:pools[0].aws.key_generation: 0 is not allowed")


def test_the_ecs_worker_type_takes_the_same_section() -> None:
    settings = EcsSettings.model_validate({"region": "eu-west-1"})
    derived = settings.resolve_names("dev-ecs", Naming.DERIVED)
    assert derived.names.log_group_name == "/ecs/dev-ecs-cluster"
    helper = settings.resolve_names("dev-ecs", Naming.HELPER)
    assert helper.names.log_group_name == "/ecs/prefect-ecs-cluster"
    problem = _only(_problems(_pool(type_="ecs", region="nowhere")))
    assert problem.startswith("pushpools:pools[0].aws.region: 'nowhere'")
