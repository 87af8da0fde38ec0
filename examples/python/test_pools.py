"""Unit tests of a program built from pushpools' components, with Pulumi's own mocks.

Copy this file next to your program and run `pytest`. It needs no cloud, no Pulumi CLI
and no Prefect: `pulumi.runtime.set_mocks` replaces the engine, and the mocks below are
the plain kind Pulumi's documentation shows, which return each resource's inputs as its
state. What a provider computes (a key's `privateKey`, IDs, emails, ARNs) is absent, so
assert on what your program asks for: which grant on which scope, which names, what is a
secret.
"""

import asyncio
from collections.abc import Iterator

import pulumi
import pytest

AVAILABILITY_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
CLIENT_CONFIG = "azuread:index/getClientConfig:getClientConfig"
# Who `pulumi up` signs in to Entra ID as (e.g. your pipeline's deploy identity).
DEPLOYER_OBJECT_ID = "11111111-2222-4333-8444-555555555555"


class PlainMocks(pulumi.runtime.Mocks):
    """Every resource's state is its inputs; every resource is kept to assert on."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        # Data sources (invokes) get an answer only where a test needs one: an ECS pool
        # with a new VPC asks AWS for the region's availability zones; an ACI pool asks
        # Entra ID who deploys it, to make that principal the app registration's owner.
        if args.token == AVAILABILITY_ZONES:
            return {"names": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
        if args.token == CLIENT_CONFIG:
            return {
                "clientId": "66666666-7777-4888-9999-000000000000",
                "objectId": DEPLOYER_OBJECT_ID,
                "tenantId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            }
        return {}

    def named(self, type_: str, name: str) -> pulumi.runtime.MockResourceArgs:
        matches = [r for r in self.resources if r.typ == type_ and r.name == name]
        assert len(matches) == 1, f"{type_} {name!r}: {len(matches)} found"
        return matches[0]


@pytest.fixture
def mocks() -> Iterator[PlainMocks]:
    # Set in a fixture, not at import: pytest imports every test module before it runs
    # any, and a module-level `set_mocks` in one module would replace another's. A fresh
    # event loop per test keeps one test's resources out of the next.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    recorded = PlainMocks()
    pulumi.runtime.set_mocks(recorded, project="my-platform", stack="dev", preview=False)
    yield recorded
    asyncio.set_event_loop(None)
    loop.close()


def test_cloud_run_prefect_may_act_as_the_runtime_account_only(mocks: PlainMocks) -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    @pulumi.runtime.test
    def declare() -> pulumi.Output:
        pool = CloudRunPushPool("ml", {"project": "acme-data-dev", "region": "europe-west1"})
        return pool.template_defaults

    declare()
    # Registration is asynchronous: read what was declared after the test function ran.
    act_as = mocks.named("gcp:serviceaccount/iAMMember:IAMMember", "ml-act-as-runtime")
    assert act_as.inputs["role"] == "roles/iam.serviceAccountUser"
    project_grants = [
        r.inputs["role"] for r in mocks.resources if r.typ == "gcp:projects/iAMMember:IAMMember"
    ]
    assert project_grants == ["roles/run.developer"]  # no project-wide act-as


def test_cloud_run_credentials_block_is_a_secret(mocks: PlainMocks) -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    async def check() -> None:
        pool = CloudRunPushPool("ml", {"project": "acme-data-dev"})
        assert pool.credentials_block is not None
        assert await pool.credentials_block.is_secret()
        block = await pool.credentials_block.future()
        assert block is not None
        assert block["type_slug"] == "gcp-credentials"
        assert block["name"] == "ml-push-pool-credentials"

    pulumi.runtime.test(check)()


def test_every_pool_kind_builds_under_plain_mocks(mocks: PlainMocks) -> None:
    from pushpools.components.aws.pool import EcsPushPool
    from pushpools.components.azure.pool import AciPushPool
    from pushpools.components.managed.pool import ManagedPool
    from pushpools.components.modal.pool import ModalPushPool

    @pulumi.runtime.test
    def declare() -> pulumi.Output:
        pools = [
            EcsPushPool("etl", {"region": "eu-west-1"}),
            AciPushPool(
                "aci",
                {
                    "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                    "client_secret_rotation_days": 90,
                    "role": "least-privilege",
                },
            ),
            ModalPushPool("gpu", {"token_id": "ak-test", "token_secret": "as-test"}),
            ManagedPool("quick", {"pip_packages": ["pandas"]}),
        ]
        return pulumi.Output.all(*(pool.template_defaults for pool in pools))

    declare()
    # The least-privilege Azure roles: assigning an identity only on the pool's own one.
    assign = mocks.named("azure-native:authorization:RoleAssignment", "aci-assign-identity")
    assert assign.inputs["scope"] == "aci-acr-identity-id"
    # Whoever deploys owns the app registration and its service principal, so a deploy
    # identity with only Application.ReadWrite.OwnedBy can still rotate and delete them.
    for type_, name in (
        ("azuread:index/application:Application", "aci-app"),
        ("azuread:index/servicePrincipal:ServicePrincipal", "aci-sp"),
    ):
        assert mocks.named(type_, name).inputs["owners"] == [DEPLOYER_OBJECT_ID]
    # The ECS pool's tasks get the security group it made.
    assert mocks.named("aws:ec2/securityGroup:SecurityGroup", "etl-security-group")
