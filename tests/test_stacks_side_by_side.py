"""Several stacks and pools in one account, project, subscription and tenant: the default
(derived) physical names of two stacks never collide."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pushpools.components.azure.settings import today_utc
from pushpools.components.config import PoolConfig, PoolType
from pushpools_tools.engine import ProgramRun, reveal
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import load_stack
from tests.harness import PROJECT_DIR, config_problems, inputs, run_config

# Resource type -> the inputs that hold a name unique in an account, project, region,
# subscription, resource group or tenant.
NAME_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("name",),
    "aws:iam/user:User": ("name",),
    "aws:iam/policy:Policy": ("name",),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:ecr/repository:Repository": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "aws:ec2/securityGroup:SecurityGroup": ("name",),
    "aws:ec2/vpc:Vpc": ("tags.Name",),
    "aws:ec2/subnet:Subnet": ("tags.Name",),
    "aws:ec2/internetGateway:InternetGateway": ("tags.Name",),
    "aws:ec2/routeTable:RouteTable": ("tags.Name",),
    "gcp:serviceaccount/account:Account": ("accountId",),
    "gcp:artifactregistry/repository:Repository": ("repositoryId",),
    "azure-native:resources:ResourceGroup": ("resourceGroupName",),
    "azure-native:containerregistry:Registry": ("registryName",),
    "azure-native:managedidentity:UserAssignedIdentity": ("resourceName",),
    "azure-native:authorization:RoleDefinition": ("roleName", "roleDefinitionId"),
    "azure-native:authorization:RoleAssignment": ("roleAssignmentName",),
    "azuread:index/application:Application": ("displayName",),
    "azuread:index/applicationPassword:ApplicationPassword": ("displayName",),
}
# Resources with no name of their own (attachments, bindings, keys, API enablement) or
# named by the engine.
UNNAMED = frozenset(
    {
        "pulumi:providers:azure-native",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",  # an inline policy: its name is per role
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/accessKey:AccessKey",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "gcp:projects/service:Service",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:serviceaccount/key:Key",
        "azuread:index/servicePrincipal:ServicePrincipal",
        "pulumi-python:dynamic/pushpools:Pause",  # a wait inside the deployment
        "pulumi-python:dynamic/pushpools:Rotation",  # dates in the state only
    }
)


def physical_names(run: ProgramRun) -> set[tuple[str, str]]:
    """(resource type, name) of every named resource the run declares."""
    names = set()
    for resource in run.resources:
        if not resource.custom or resource.type.startswith("pushpools"):
            continue
        assert resource.type in NAME_INPUTS or resource.type in UNNAMED, (
            f"{resource.type} is new here: say which of its inputs is a physical name"
        )
        for path in NAME_INPUTS.get(resource.type, ()):
            value: Any = inputs(resource)
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                names.add((resource.type, str(value).lower()))
    for pool in run.outputs.get("pools") or {}:
        names.add(("prefect work pool", pool))
    for block in (reveal(run.outputs.get("credentials_blocks")) or {}).values():
        names.add(("prefect block", block["name"]))
    return names


def plan_shipped(stack: str) -> ProgramRun:
    path = PROJECT_DIR / "stacks" / f"Pulumi.{stack}.yaml"
    return run_stack(PROJECT_DIR, load_stack(PROJECT_DIR, path, stack))


def test_the_shipped_dev_and_prod_stacks_share_no_physical_name() -> None:
    dev, prod = physical_names(plan_shipped("dev")), physical_names(plan_shipped("prod"))
    assert len(dev) > 20
    assert len(prod) > 20
    assert dev & prod == set()


def _settings(pool_type: PoolType) -> dict[str, Any]:
    cloud = {
        "gcp": {"gcp": {"project": "acme-shared"}},
        "aws": {"aws": {"region": "eu-west-1", "task_role": {}}},
        "azure": {
            "azure": {
                "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                "client_secret_expires_on": (today_utc() + timedelta(days=90)).isoformat(),
                "role": "least-privilege",
            }
        },
        "modal": {},
        "managed": {},
        "coiled": {"coiled": {"workspace": "acme"}},
    }
    from pushpools.components.config.pool_types import POOL_KINDS

    return {"type": pool_type.value, **cloud[POOL_KINDS[pool_type].cloud.value]}


def _run(*pools: dict[str, Any]) -> ProgramRun:
    # The secret keys the pools' kinds read (Modal's token, Coiled's), each set once.
    tokens = {
        f"pushpools:{key}": "token-test"
        for pool in pools
        for key in PoolConfig.model_validate(pool).secret_config_keys()
    }
    return run_config({"pushpools:pools": list(pools), **tokens}, secret_keys=list(tokens))


@pytest.mark.parametrize("pool_type", list(PoolType), ids=str)
def test_two_stacks_of_one_pool_type_in_one_account_share_no_physical_name(
    pool_type: PoolType,
) -> None:
    # The same cloud settings in the same account/project/subscription; only the pool
    # names (unique in a Prefect workspace) differ, as between a dev and a prod stack.
    dev = physical_names(_run({"name": "dev-flows", **_settings(pool_type)}))
    prod = physical_names(_run({"name": "prod-flows", **_settings(pool_type)}))
    assert dev & prod == set()
    # And both pools in one stack pass the stack's own collision check.
    both = _run(
        {"name": "dev-flows", **_settings(pool_type)},
        {"name": "prod-flows", **_settings(pool_type)},
    )
    assert physical_names(both) == dev | prod


@pytest.mark.parametrize("cloud_type", [PoolType.CLOUD_RUN_PUSH, PoolType.ECS_PUSH])
def test_helper_naming_is_one_explicit_opt_in_and_two_such_pools_collide(
    cloud_type: PoolType,
) -> None:
    pools = [{"name": name, "naming": "helper", **_settings(cloud_type)} for name in ("a-x", "b-x")]
    problems = config_problems({"pushpools:pools": pools})
    assert problems
    assert all(p.startswith("pushpools:pools[1].") for p in problems)
    assert all("is already used by pool 'a-x'" in p for p in problems)
