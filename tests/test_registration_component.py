"""PoolRegistration: a pool's Prefect objects from any Python program, and the example
program that uses two pool components and the registration without pushpools' stack config.
"""

from __future__ import annotations

import json
import re
import runpy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest
from harness import PROJECT_DIR, inputs, run_config

from pushpools.components.config import PoolType
from pushpools.components.pool_args import ComponentArgsError
from pushpools_tools.engine import ProgramRun, is_secret, reveal, run_program

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
REGISTRATION = "pushpools:prefect:PoolRegistration"
CLOUD_URL = (
    "https://api.prefect.cloud/api/accounts/8c4b9b3e-1a2d-4e5f-9a0b-1c2d3e4f5a6b"
    "/workspaces/0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
)
PROJECT = "acme-data-dev"


def run(program: Callable[[], None], config: dict[str, str] | None = None, **kw: Any) -> ProgramRun:
    return run_program(
        program,
        project="my-platform",
        stack="dev",
        config=config or {},
        secret_keys=kw.get("secret_keys", []),
        record=kw.get("record"),
    )


def refused(program: Callable[[], None]) -> list[str]:
    record = ProgramRun(project="my-platform", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run(program, record=record)
    prefect_objects = [r for r in record.resources if r.type in (BLOCK, WORK_POOL)]
    assert prefect_objects == []
    assert record.find(REGISTRATION) == []
    return caught.value.problems


def test_registering_a_pool_component_declares_what_the_stack_program_declares() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool
    from pushpools.components.prefect.registration import PoolRegistration

    def program() -> None:
        pool = CloudRunPushPool("ml", {"project": PROJECT, "region": "europe-west1"})
        PoolRegistration(
            "ml",
            {
                "api_url": CLOUD_URL + "/",
                "api_key": pulumi.Output.secret("pnu_test"),
                "pool": pool,
                "concurrency_limit": 5,
            },
        )

    from_component = run(program)
    from_stack = run_config(
        {
            "pushpools:pools": [
                {
                    "name": "ml",
                    "type": "cloud-run:push",
                    "gcp": {"project": PROJECT, "region": "europe-west1"},
                    "prefect": {"concurrency_limit": 5},
                }
            ],
            "pushpools:prefect": {"api_url": CLOUD_URL},
            "pushpools:prefectApiKey": "pnu_test",
        },
        secret_keys=["pushpools:prefectApiKey"],
    )
    registration = from_component.one(REGISTRATION, "ml")
    for type_, name in ((BLOCK, "ml-credentials-block"), (WORK_POOL, "ml-work-pool")):
        mine = from_component.one(type_, name)
        assert mine.parent == registration.urn
        stack = from_stack.one(type_, name)
        ignore = {"__provider"}
        assert {k: v for k, v in inputs(mine).items() if k not in ignore} == {
            k: v for k, v in inputs(stack).items() if k not in ignore
        }
    block = from_component.one(BLOCK)
    assert is_secret(block.inputs["data"])
    assert is_secret(block.inputs["api_key"])


def test_infrastructure_made_without_a_pool_component_can_be_registered() -> None:
    from pushpools.components.prefect.registration import PoolRegistration

    def program() -> None:
        registration = PoolRegistration(
            "legacy-ecs",
            {
                "api_url": CLOUD_URL,
                "api_key": "pnu_test",
                "work_pool_type": PoolType.ECS_PUSH,
                "template_defaults": {"cluster": "arn:aws:ecs:eu-west-1:1:cluster/legacy"},
                "credentials_block": {
                    "type_slug": "aws-credentials",
                    "name": "legacy-aws",
                    "data": {"aws_access_key_id": "AKIA", "aws_secret_access_key": "s"},
                    "template_variable": "aws_credentials",
                },
            },
        )
        pulumi.export("pool_id", registration.work_pool_id)

    result = run(program)
    block = result.one(BLOCK, "legacy-ecs-credentials-block")
    assert is_secret(block.inputs["data"])
    assert inputs(block)["type_slug"] == "aws-credentials"
    pool = inputs(result.one(WORK_POOL, "legacy-ecs-work-pool"))
    assert pool["type"] == "ecs:push"
    assert pool["credentials_variable"] == "aws_credentials"
    assert pool["template_defaults"] == {"cluster": "arn:aws:ecs:eu-west-1:1:cluster/legacy"}
    assert result.outputs["pool_id"]


def test_contradictory_and_missing_args_are_refused_before_anything_is_declared() -> None:
    from pushpools.components.managed.pool import ManagedPool
    from pushpools.components.prefect.registration import PoolRegistration

    def both() -> None:
        pool = ManagedPool("gpu", {})
        PoolRegistration(
            "gpu",
            {"api_url": CLOUD_URL, "api_key": "k", "pool": pool, "template_defaults": {}},
        )

    assert refused(both) == [
        "args: give either pool, or work_pool_type, template_defaults, credentials_block; "
        "not both (got pool and template_defaults)"
    ]

    problems = refused(lambda: PoolRegistration("Bad Name", {"api_url": "ftp://x"}))  # type: ignore[typeddict-item]
    text = "\n".join(problems)
    assert "name: 'Bad Name' is not a valid pool name" in text
    assert "args.work_pool_type: required without args.pool, but not set" in text
    assert "args.template_defaults: required without args.pool, but not set" in text
    assert text.count("args.api_url:") == 1


def test_a_push_pool_is_refused_at_a_self_hosted_server() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool
    from pushpools.components.prefect.registration import PoolRegistration

    def program() -> None:
        pool = CloudRunPushPool("ml", {"project": PROJECT})
        PoolRegistration("ml", {"api_url": "http://127.0.0.1:4200/api", "pool": pool})

    (problem,) = refused(program)
    assert problem.startswith("args.api_url: ")
    assert "cloud-run" in problem


def test_the_python_example_runs_without_the_stack_config() -> None:
    main = str(PROJECT_DIR / "examples" / "python" / "__main__.py")
    result = run(
        lambda: runpy.run_path(main, run_name="__main__"),
        config={
            "my-platform:gcpProject": PROJECT,
            "my-platform:prefectApiUrl": CLOUD_URL,
            "my-platform:prefectApiKey": "pnu_example",
        },
        secret_keys=["my-platform:prefectApiKey"],
    )
    assert result.one("pushpools:gcp:CloudRunPushPool", "ml")
    assert result.one("pushpools:aws:EcsPushPool", "etl")
    for pool in ("ml", "etl"):
        registration = result.one(REGISTRATION, pool)
        work_pool = result.one(WORK_POOL, f"{pool}-work-pool")
        assert work_pool.parent == registration.urn
        assert inputs(work_pool)["concurrency_limit"] == 10
        assert is_secret(result.one(BLOCK, f"{pool}-credentials-block").inputs["data"])
    assert reveal(result.outputs["ml_image_namespace"]).endswith(f"/{PROJECT}/ml-images")
    assert result.outputs["etl_image_reference"].endswith(":<tag>")
    # Nested args take effect as the same keys of a stack file would.
    assert inputs(result.one("aws:ec2/vpc:Vpc", "etl-vpc"))["cidrBlock"] == "10.30.0.0/16"
    lifecycle = json.loads(inputs(result.one("aws:ecr/lifecyclePolicy:LifecyclePolicy"))["policy"])
    assert lifecycle["rules"][0]["selection"]["countNumber"] == 50


def test_the_python_example_of_the_library_docs_runs() -> None:
    """docs/library.md's program, with a stand-in for "your own VPC, made elsewhere"."""
    page = (PROJECT_DIR / "docs" / "library.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, re.S)
    assert "network = ...  #" in code

    def program() -> None:
        vpc = SimpleNamespace(
            vpc_id=pulumi.Output.from_input("vpc-0a1b2c3d"),
            private_subnet_ids=pulumi.Output.from_input(["subnet-0a1b2c3d", "subnet-4e5f6a7b"]),
        )
        exec(code.replace("network = ...", "network = vpc"), {"vpc": vpc})

    result = run(
        program,
        config={
            "my-platform:gcpProject": PROJECT,
            "my-platform:prefectApiUrl": CLOUD_URL,
            "my-platform:prefectApiKey": "pnu_example",
        },
        secret_keys=["my-platform:prefectApiKey"],
    )
    repository = result.one("gcp:artifactregistry/repository:Repository")
    assert inputs(repository)["repositoryId"] == "ml-flow-images"
    group = inputs(result.one("aws:ec2/securityGroup:SecurityGroup"))
    assert group["vpcId"] == "vpc-0a1b2c3d"
    assert inputs(result.one("aws:ecr/repository:Repository"))["imageTagMutability"] == "IMMUTABLE"
    assert result.find("aws:ec2/vpc:Vpc") == []  # the program's own VPC is used
    for pool in ("ml", "etl"):
        assert result.one(REGISTRATION, pool)
