"""A pool never becomes usable in Prefect before its identity can act: the credentials
block and the work pool wait for every grant of their pool (graph test on the offline
engine), so a failed grant stops the pool's registration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from harness import run_config

from pushpools.components.azure.settings import today_utc
from pushpools_tools.engine import ProgramRun

BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
CLOUD = (
    "https://api.prefect.cloud/api/accounts/0b8f9c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e/"
    "workspaces/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)
# The grants of each pool type: (resource type, logical name).
GRANTS: dict[str, set[tuple[str, str]]] = {
    "run": {
        ("gcp:projects/iAMMember:IAMMember", "run-roles-run-developer"),
        ("gcp:serviceaccount/iAMMember:IAMMember", "run-act-as-runtime"),
        (
            "gcp:serviceaccount/iAMMember:IAMMember",
            "run-act-as-etl-acme-data-dev-iam-gserviceaccount-com",
        ),
        ("gcp:projects/iAMMember:IAMMember", "run-runtime-roles-bigquery-jobuser"),
    },
    "ecs": {
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ecs-execution-role-policy"),
        ("aws:iam/rolePolicy:RolePolicy", "ecs-execution-role-logs"),
        (
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "ecs-task-role-aws-policy-amazons3readonlyaccess",
        ),
        ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "ecs-prefect-policy-attachment"),
        ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "ecs-ecs-full-access"),
        ("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "ecs-capacity-providers"),
    },
    "aci": {
        ("azure-native:authorization:RoleAssignment", "aci-run-container-groups"),
        ("azure-native:authorization:RoleAssignment", "aci-assign-identity"),
        ("azure-native:authorization:RoleAssignment", "aci-acr-pull"),
    },
}


def _pools() -> list[dict[str, Any]]:
    expiry = (today_utc() + timedelta(days=90)).isoformat()
    return [
        {
            "name": "run",
            "type": "cloud-run:push",
            "gcp": {
                "project": "acme-data-dev",
                "runtime_roles": ["roles/bigquery.jobUser"],
                "act_as_service_accounts": ["etl@acme-data-dev.iam.gserviceaccount.com"],
            },
        },
        {
            "name": "ecs",
            "type": "ecs:push",
            "aws": {
                "region": "eu-west-1",
                "task_role": {
                    "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
                },
                "attach_ecs_full_access": True,
            },
        },
        {
            "name": "aci",
            "type": "azure-container-instance:push",
            "azure": {
                "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                "client_secret_expires_on": expiry,
                "role": "least-privilege",
            },
        },
    ]


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_config(
        {
            "pushpools:pools": _pools(),
            "pushpools:prefect": {"api_url": CLOUD},
            "pushpools:prefectApiKey": "pnu_test",
        },
        secret_keys=["pushpools:prefectApiKey"],
    )


def _direct_and_transitive(run: ProgramRun, urn: str) -> set[str]:
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    todo = [urn]
    while todo:
        for dependency in by_urn[todo.pop()].dependencies:
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


@pytest.mark.parametrize("pool", sorted(GRANTS))
def test_the_block_and_the_work_pool_wait_for_every_grant_of_their_pool(
    run: ProgramRun, pool: str
) -> None:
    grants = {run.one(type_, name).urn for type_, name in GRANTS[pool]}
    block = run.one(BLOCK, f"{pool}-credentials-block")
    work_pool = run.one(WORK_POOL, f"{pool}-work-pool")
    assert grants <= set(block.dependencies)
    assert grants <= set(work_pool.dependencies)
    assert block.urn in work_pool.dependencies


def test_every_grant_of_a_pool_is_waited_for(run: ProgramRun) -> None:
    # No grant is missed: every binding, attachment, assignment and capacity-provider
    # set the program declares is one a Prefect object waits for.
    grant_types = {type_ for grants in GRANTS.values() for type_, _ in grants}
    declared = {(r.type, r.name) for r in run.resources if r.type in grant_types}
    assert declared == set().union(*GRANTS.values())


def test_a_pool_waits_only_for_its_own_grants(run: ProgramRun) -> None:
    others = {run.one(t, n).urn for p in ("ecs", "aci") for t, n in GRANTS[p]}
    assert not others & _direct_and_transitive(run, run.one(WORK_POOL, "run-work-pool").urn)


def test_a_users_program_registers_after_the_grants_too() -> None:
    """The library path: a program that builds a pool component and registers it with
    `PoolRegistration` gets the same order as the stack program (one wiring path)."""
    import pulumi

    from pushpools.components.gcp.pool import CloudRunPushPool
    from pushpools.components.prefect.registration import PoolRegistration
    from pushpools_tools.engine import run_program

    def program() -> None:
        pool = CloudRunPushPool(
            "run", {"project": "acme-data-dev", "runtime_roles": ["roles/bigquery.jobUser"]}
        )
        PoolRegistration(
            "run", {"api_url": CLOUD, "api_key": pulumi.Output.secret("pnu_test"), "pool": pool}
        )

    run = run_program(program, project="mine", stack="dev", config={}, secret_keys=[])
    grants = {
        run.one(type_, name).urn
        for type_, name in GRANTS["run"]
        if not name.startswith("run-act-as-etl")
    }
    block = run.one(BLOCK, "run-credentials-block")
    work_pool = run.one(WORK_POOL, "run-work-pool")
    assert grants
    assert grants <= set(block.dependencies)
    assert grants <= set(work_pool.dependencies)
