"""Bad args from a user's own program: ComponentArgsError naming the argument, the value
as given and what is allowed, before anything is declared (not even the component)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pushpools.components.pool_args import ComponentArgsError
from pushpools_tools.engine import ProgramRun, run_program

CLOUD_URL = (
    "https://api.prefect.cloud/api/accounts/8c4b9b3e-1a2d-4e5f-9a0b-1c2d3e4f5a6b"
    "/workspaces/0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
)
SUBSCRIPTION = "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b"


def _component(name: str) -> Any:
    from pushpools.components.aws.pool import EcsPushPool
    from pushpools.components.azure.pool import AciPushPool
    from pushpools.components.gcp.pool import CloudRunPushPool
    from pushpools.components.managed.pool import ManagedPool
    from pushpools.components.modal.pool import ModalPushPool

    return {
        "gcp": CloudRunPushPool,
        "aws": EcsPushPool,
        "azure": AciPushPool,
        "modal": ModalPushPool,
        "managed": ManagedPool,
    }[name]


def refused(program: Callable[[], None]) -> list[str]:
    record = ProgramRun(project="mine", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run_program(program, project="mine", stack="dev", config={}, secret_keys=[], record=record)
    assert [r for r in record.resources if r.type != "pulumi:pulumi:Stack"] == []
    return caught.value.problems


CASES: list[tuple[str, str, Any, str]] = [
    # (component, name, args, the problem's start)
    ("gcp", "ml", None, "args: NoneType is not allowed; give a mapping"),
    ("aws", "etl", ["region", "eu-west-1"], "args: list is not allowed; give a mapping"),
    ("managed", "quick", "quick", "args: str is not allowed; give a mapping"),
    ("gcp", "ml", {}, "args.project: required, but not set"),
    ("aws", "etl", {}, "args.region: required, but not set"),
    ("azure", "aci", {"subscription_id": SUBSCRIPTION}, "args: set client_secret_rotation_days"),
    ("modal", "gpu", {"token_id": "ak-x"}, "args.token_secret: required, but not set"),
    (
        "gcp",
        "ml",
        {"project": "acme-data-dev", "key_generation": True},
        "args.key_generation: true is not allowed; expected a whole number",
    ),
    (
        "gcp",
        "ml",
        {"project": "acme-data-dev", "key_generation": "2"},
        "args.key_generation: '2' is not allowed; expected a whole number",
    ),
    (
        "gcp",
        "ml",
        {"project": "acme-data-dev", "delete_images_on_destroy": "no"},
        "args.delete_images_on_destroy: 'no' is not allowed; expected true or false",
    ),
    (
        "aws",
        "etl",
        {"region": "eu-west-1", "network": {"assign_public_ip": "false"}},
        "args.network.assign_public_ip: 'false' is not allowed; expected true or false",
    ),
    (
        "aws",
        "etl",
        {"region": "eu-west-1", "ecr": {"keep_last_images": 10.5}},
        "args.ecr.keep_last_images: 10.5 is not allowed; expected a whole number",
    ),
    (
        "gcp",
        "ml",
        {"project": "acme-data-dev", "type": "ecs:push"},
        "args.type: 'ecs:push' is not allowed; allowed: cloud-run:push, cloud-run-v2:push, "
        "cloud-run, cloud-run-v2",
    ),
    (
        "modal",
        "gpu",
        {"token_id": "a", "token_secret": "b", "naming": "helper"},
        "args.naming: unknown argument; allowed: credentials_block_name, env, token_id, "
        "token_secret",
    ),
    (
        "modal",
        "gpu",
        {"token_id": "a", "token_secret": "b", "token_id_key": "x"},
        "args.token_id_key: unknown argument",
    ),
    (
        "managed",
        "quick",
        {"env": {"KEY": "pnu_0123456789abcdefghij"}},
        "args.env: 'KEY' holds a credential",
    ),
]


@pytest.mark.parametrize(("component", "name", "args", "problem"), CASES)
def test_bad_args_are_refused_naming_the_argument(
    component: str, name: str, args: Any, problem: str
) -> None:
    problems = refused(lambda: _component(component)(name, args))
    assert [p for p in problems if p.startswith(problem)], problems
    assert "pnu_0123456789" not in "\n".join(problems)


def test_name_and_args_swapped_are_named() -> None:
    problems = refused(lambda: _component("gcp")({"project": "acme-data-dev"}, "ml"))
    assert problems == [
        "name: dict is not allowed; give the pool's name (text) first, then its args"
    ]


REGISTRATION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"adopt_existing": "no"}, "args.adopt_existing: 'no' is not allowed; allowed: True or False"),
    ({"paused": 1}, "args.paused: 1 is not allowed; allowed: True or False"),
    ({"concurrency_limit": True}, "args.concurrency_limit: True is not allowed"),
    ({"api_key": ""}, "args.api_key: Prefect Cloud needs an API key, but it is empty"),
    (
        {
            "work_pool_type": "ecs:push",
            "template_defaults": {},
            "credentials_block": {
                "type_slug": "gcp-credentials",
                "name": "x",
                "data": {},
                "template_variable": "credentials",
            },
        },
        "args.credentials_block.type_slug: 'gcp-credentials' is not allowed for an 'ecs:push' "
        "pool; allowed: 'aws-credentials'",
    ),
    (
        {
            "work_pool_type": "prefect:managed",
            "template_defaults": {},
            "credentials_block": {
                "type_slug": "aws-credentials",
                "name": "x",
                "data": {},
                "template_variable": "v",
            },
        },
        "args.credentials_block: a 'prefect:managed' pool takes no credentials block",
    ),
]


@pytest.mark.parametrize(("override", "problem"), REGISTRATION_CASES)
def test_bad_registration_args_are_refused(override: dict[str, Any], problem: str) -> None:
    from pushpools.components.prefect.registration import PoolRegistration

    def program() -> None:
        args: dict[str, Any] = {"api_url": CLOUD_URL, "api_key": pulumi.Output.secret("pnu_x")}
        if "work_pool_type" not in override:
            args["pool"] = _component("managed")("quick", {})
        PoolRegistration("quick", {**args, **override})  # type: ignore[typeddict-item]

    record = ProgramRun(project="mine", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run_program(program, project="mine", stack="dev", config={}, secret_keys=[], record=record)
    assert [r for r in record.resources if r.type.startswith("pulumi-python")] == []
    assert [p for p in caught.value.problems if p.startswith(problem)], caught.value.problems
