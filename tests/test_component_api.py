"""The components' public API: `(name, args, opts)` from any Python program.

A program that is not pushpools' stack program builds the components from typed args; the
same checks as the stack config refuse bad args, naming the argument, before anything is
declared; values made by other resources (Outputs) pass through; the outputs carry what
Prefect needs, the block payload as a secret.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from harness import inputs, run_pools

from pushpools.components.config.base import field_model
from pushpools.components.config.pool_types import KINDS, PoolKind
from pushpools.components.pool_args import ComponentArgsError, nested_model, pool_level_args
from pushpools_tools.engine import ProgramRun, is_secret, reveal, run_program

PROJECT = "acme-data-dev"


def run(program: Callable[[], None], record: ProgramRun | None = None) -> ProgramRun:
    return run_program(
        program, project="my-platform", stack="dev", config={}, secret_keys=[], record=record
    )


def export_outputs(component: Any, *names: str) -> None:
    for name in names:
        pulumi.export(name, getattr(component, name))


def refused(program: Callable[[], None]) -> list[str]:
    """The problems a component refuses its args with; asserts nothing was declared."""
    record = ProgramRun(project="my-platform", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run(program, record)
    declared = [r for r in record.resources if r.type != "pulumi:pulumi:Stack"]
    assert declared == [], f"declared before the args were refused: {declared}"
    return caught.value.problems


def created(run_: ProgramRun) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run_.resources if r.type != "pulumi:pulumi:Stack"}


def test_cloud_run_from_args_declares_what_the_stack_program_declares() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool, ServiceAccountUserScope

    def program() -> None:
        CloudRunPushPool(
            "ml",
            {
                "project": PROJECT,
                "region": "europe-west1",
                "service_account_user_scope": ServiceAccountUserScope.RUNTIME_ACCOUNT,
                "runtime_roles": ["roles/storage.objectViewer"],
                "labels": {"team": "data"},
            },
        )

    from_args = run(program)
    from_stack = run_pools(
        {
            "name": "ml",
            "type": "cloud-run:push",
            "gcp": {
                "project": PROJECT,
                "region": "europe-west1",
                "runtime_roles": ["roles/storage.objectViewer"],
            },
        },
        labels={"team": "data"},
    )
    assert created(from_args) == created(from_stack)
    for resource in from_args.resources:
        if resource.custom:
            twin = from_stack.one(resource.type, resource.name)
            assert inputs(resource) == inputs(twin)


def test_outputs_carry_what_prefect_needs_and_the_block_is_secret() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    def program() -> None:
        pool = CloudRunPushPool("ml", {"project": PROJECT, "region": "europe-west1"})
        export_outputs(
            pool,
            "work_pool_name",
            "work_pool_type",
            "credentials_block",
            "template_defaults",
            "image_namespace",
            "image_reference",
            "prefect_service_account_email",
            "runtime_service_account_email",
        )

    outputs = run(program).outputs
    assert is_secret(outputs["credentials_block"])
    block = reveal(outputs["credentials_block"])
    assert block["type_slug"] == "gcp-credentials"
    assert block["name"] == "ml-push-pool-credentials"
    assert block["template_variable"] == "credentials"
    assert block["data"]["project"] == PROJECT
    assert "private_key" in block["data"]["service_account_info"]
    runtime = f"ml-jobs@{PROJECT}.iam.gserviceaccount.com"
    assert outputs["template_defaults"] == {
        "region": "europe-west1",
        "service_account_name": runtime,
    }
    assert outputs["image_namespace"] == f"europe-west1-docker.pkg.dev/{PROJECT}/ml-images"
    assert outputs["image_reference"].endswith("/ml-images/<image>:<tag>")
    assert outputs["work_pool_name"] == "ml"
    assert outputs["work_pool_type"] == "cloud-run:push"
    assert outputs["runtime_service_account_email"] == runtime
    assert outputs["prefect_service_account_email"].startswith("ml-prefect@")
    for name, value in outputs.items():
        if name != "credentials_block":
            assert not is_secret(value), name


def test_the_naming_arg_gives_the_helpers_names_and_a_name_given_wins() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool
    from pushpools.components.naming import Naming

    def program() -> None:
        CloudRunPushPool(
            "ml", {"project": PROJECT, "naming": Naming.HELPER, "names": {"repository": "flows"}}
        )

    declared = run(program)
    accounts = {inputs(r)["accountId"] for r in declared.find("gcp:serviceaccount/account:Account")}
    assert accounts == {"prefect-cloud-run", "prefect-cloud-run-jobs"}
    repository = declared.one("gcp:artifactregistry/repository:Repository")
    assert inputs(repository)["repositoryId"] == "flows"


def test_a_project_made_elsewhere_passes_through_as_an_output() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    def program() -> None:
        # Stands for another resource's output, e.g. `organizations.Project(...).project_id`.
        project = pulumi.Output.from_input("made-by-the-platform").apply(lambda p: p)
        pool = CloudRunPushPool("ml", {"project": project, "region": "europe-west1"})
        export_outputs(pool, "credentials_block", "image_namespace")

    result = run(program)
    for resource in result.resources:
        if resource.custom and "project" in inputs(resource):
            assert inputs(resource)["project"] == "made-by-the-platform"
    assert result.outputs["image_namespace"].split("/")[1] == "made-by-the-platform"
    assert reveal(result.outputs["credentials_block"])["data"]["project"] == "made-by-the-platform"


def test_bad_args_are_refused_by_argument_name_before_anything_is_declared() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    problems = refused(
        lambda: CloudRunPushPool(
            "ml",
            {
                "project": PROJECT,
                "region": "europe-west99",
                "names": {"repository": "Bad_Repo"},
            },
        )
    )
    text = "\n".join(problems)
    assert "args.region: 'europe-west99' is not a Cloud Run region (did you mean" in text
    assert "args.names.repository: 'Bad_Repo' is not a valid Artifact Registry" in text
    assert "pushpools:" not in text  # component users have no stack config keys

    problems = refused(
        lambda: CloudRunPushPool("ml", {"project": PROJECT, "labels": {"Team": "data"}})
    )
    assert problems[0].startswith("args.labels.Team: key 'Team' is not allowed on GCP resources")


def test_a_missing_required_arg_and_an_unknown_arg_are_named() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    problems = refused(
        lambda: CloudRunPushPool("ml", {"regoin": "europe-west1"})  # type: ignore[typeddict-item]
    )
    unknown = [p for p in problems if p.startswith("args.regoin: unknown argument; allowed: ")]
    assert len(unknown) == 1
    assert "region" in unknown[0]

    problems = refused(lambda: CloudRunPushPool("ml", {"region": "europe-west1"}))  # type: ignore[typeddict-item]
    assert problems == ["args.project: required, but not set"]


def test_a_bad_pool_name_is_refused_as_the_name() -> None:
    from pushpools.components.managed.pool import ManagedPool

    problems = refused(lambda: ManagedPool("Prefect_Pool", {}))
    assert len(problems) == 1
    assert problems[0].startswith("name: 'Prefect_Pool' is refused by Prefect")


def test_an_output_where_a_plain_value_decides_names_is_refused() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPool

    problems = refused(
        lambda: CloudRunPushPool(
            "ml",
            {"project": PROJECT, "names": {"repository": pulumi.Output.from_input("images")}},  # type: ignore[typeddict-item]
        )
    )
    assert problems[0].startswith("args.names.repository: an Output is not allowed here")


def test_ecs_in_a_vpc_made_elsewhere_creates_no_network_and_uses_those_subnets() -> None:
    from pushpools.components.aws.pool import EcsPushPool, LaunchType

    def program() -> None:
        vpc_id = pulumi.Output.from_input("vpc-0123456789abcdef0").apply(lambda v: v)
        subnets = pulumi.Output.from_input(["subnet-0123456789abcdef0"]).apply(lambda s: s)
        pool = EcsPushPool(
            "etl",
            {
                "region": "eu-west-1",
                "network": {"vpc_id": vpc_id, "subnet_ids": subnets},
                "launch_type": LaunchType.FARGATE_SPOT,
                "task_role": {"managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]},
            },
        )
        export_outputs(pool, "template_defaults", "task_role_arn", "credentials_block")

    result = run(program)
    types = {t for t, _ in created(result)}
    assert "aws:ec2/vpc:Vpc" not in types
    group = result.one("aws:ec2/securityGroup:SecurityGroup", "etl-security-group")
    assert inputs(group)["vpcId"] == "vpc-0123456789abcdef0"
    defaults = result.outputs["template_defaults"]
    assert defaults["vpc_id"] == "vpc-0123456789abcdef0"
    assert defaults["network_configuration"]["subnets"] == ["subnet-0123456789abcdef0"]
    assert defaults["launch_type"] == "FARGATE_SPOT"
    assert defaults["task_role_arn"] == result.outputs["task_role_arn"]
    assert is_secret(result.outputs["credentials_block"])


def test_modal_takes_its_token_as_args_and_keeps_it_secret() -> None:
    from pushpools.components.modal.pool import ModalPushPool

    def program() -> None:
        pool = ModalPushPool(
            "gpu", {"token_id": "ak-plain", "token_secret": "as-plain", "env": {"A": "1"}}
        )
        export_outputs(pool, "credentials_block", "template_defaults")

    outputs = run(program).outputs
    assert is_secret(outputs["credentials_block"])
    assert reveal(outputs["credentials_block"])["data"] == {
        "token_id": "ak-plain",
        "token_secret": "as-plain",
    }
    assert outputs["template_defaults"] == {"env": {"A": "1"}}


def _model_keys(model: Any, prefix: str = "") -> set[str]:
    """Every key of a settings model, nested ones dotted (`names.repository`)."""
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(f"{prefix}{name}")
        nested = nested_model(field.annotation)
        if nested is not None:
            keys |= _model_keys(nested, f"{prefix}{name}.")
    return keys


def _typed_dict_in(hint: Any) -> Any:
    if typing.is_typeddict(hint):
        return hint
    for arg in typing.get_args(hint):
        found = _typed_dict_in(arg)
        if found is not None:
            return found
    return None


def _args_keys(args_type: Any, prefix: str = "") -> set[str]:
    """Every key of an args TypedDict, nested ones dotted."""
    keys = set()
    # The annotations as written (pulumi.Input names Output by a forward reference).
    for name, hint in args_type.__annotations__.items():
        keys.add(f"{prefix}{name}")
        nested = _typed_dict_in(hint)
        if nested is not None:
            keys |= _args_keys(nested, f"{prefix}{name}.")
    return keys


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.cloud.value)
def test_args_declare_exactly_the_keys_of_the_pools_settings(kind: PoolKind) -> None:
    """A component's args are its pool's section of the stack config, key for key and
    nested alike, plus the pool-level args its kind takes and its secret args: a setting
    declared in the model and forgotten in the args (or the reverse) fails here."""
    component = kind.component_class()
    args_type = typing.get_type_hints(component.__init__)["args"]
    settings = _model_keys(kind.settings_model()) - set(kind.secret_args.values())
    expected = settings | set(pool_level_args(kind)) | set(kind.secret_args)
    assert _args_keys(args_type) == expected


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.cloud.value)
def test_each_registry_row_is_complete(kind: PoolKind) -> None:
    """One row per kind: its section is a field of the pool config, its component declares
    its kind, its pool types are unique to it, and its provider mocks exist."""
    import importlib

    from pushpools.components.config.pool_types import POOL_KINDS
    from pushpools.components.config.stack import PoolConfig

    assert kind.cloud.value in PoolConfig.model_fields
    assert field_model(PoolConfig.model_fields[kind.cloud.value]) is kind.settings_model()
    assert kind.component_class().CLOUD is kind.cloud
    assert all(POOL_KINDS[t] is kind for t in kind.types)
    for module in kind.provider_mocks.values():
        assert importlib.import_module(module).RESOURCES
