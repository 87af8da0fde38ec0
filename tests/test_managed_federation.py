"""Prefect Managed pools reaching AWS with no key: Prefect Cloud as an OIDC identity provider.

The trust conditions are pinned exactly as Prefect documents them
(docs.prefect.io/v3/how-to-guides/deployment_infra/managed-aws-federated-identity).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from pushpools.components.pool_args import ComponentArgsError
from pushpools.components.prefect.templates import TemplateError, render_template
from pushpools_tools.engine import ProgramRun, run_program
from pushpools_tools.plan import run_stack
from pushpools_tools.provider_mocks import aws as aws_mocks
from tests.harness import (
    PROJECT_DIR,
    config_problems,
    inputs,
    modules_imported_by_plan,
    outputs,
    retain_on_delete_requests,
    run_pools,
    settings_for,
)

ACCOUNT = "9b2d7c31-4e6f-4a8b-9c0d-1e2f3a4b5c6d"
PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.prefect.cloud/oidc-provider"
ROLE = "aws:iam/role:Role"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


def federated(name: str = "managed", **identity: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "prefect:managed",
        "managed": {
            "aws_federated_identity": {
                "prefect_account_id": ACCOUNT,
                "region": "eu-west-1",
                "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
                "statements": [
                    {"actions": ["s3:PutObject"], "resources": ["arn:aws:s3:::acme-results/*"]}
                ],
                **identity,
            }
        },
    }


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(federated(), labels={"team": "data"})


def test_the_role_trusts_only_prefect_clouds_tokens_for_this_account(run: ProgramRun) -> None:
    role = run.one(ROLE, "managed-federated-role")
    assert json.loads(inputs(role)["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "api.prefect.cloud/oidc-provider:aud": "prefect-cloud",
                        "api.prefect.cloud/oidc-provider:sub": f"prefect:account:{ACCOUNT}",
                    }
                },
            }
        ],
    }
    # Derived from the pool's name: stacks side by side in one account never share it.
    assert inputs(role)["name"] == "managed-flow-runs"
    assert inputs(role)["tags"] == {
        "team": "data",
        "managed-by": "pushpools",
        "prefect-work-pool": "managed",
    }


def test_the_role_has_exactly_the_permissions_listed(run: ProgramRun) -> None:
    attachment = run.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "managed-federated-policy-amazons3readonlyaccess",
    )
    assert inputs(attachment) == {
        "role": "managed-flow-runs",
        "policyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    }
    inline = run.one("aws:iam/rolePolicy:RolePolicy", "managed-federated-permissions")
    assert json.loads(inputs(inline)["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": ["arn:aws:s3:::acme-results/*"],
            }
        ],
    }
    kinds = sorted(r.type for r in run.resources if r.custom)
    assert kinds == [
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ]


def test_the_template_defaults_to_the_role_and_no_key_exists(run: ProgramRun) -> None:
    pool = run.outputs["pools"]["managed"]
    assert pool["template_defaults"] == {
        "federated_identity": {
            "kind": "aws",
            "aws_role_arn": "arn:aws:iam::123456789012:role/managed-flow-runs",
            "aws_region_name": "eu-west-1",
        }
    }
    assert pool["credentials_block"] is None
    assert not any(
        "accessKey" in r.type or "Key" in r.type.rsplit(":", 1)[-1] for r in run.resources
    )


# --- Prefect Cloud's IAM OIDC provider: one per AWS account, shared by its stacks -----------

GET_PROVIDER = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


def test_by_default_the_provider_is_looked_up_once_and_never_created() -> None:
    # A second stack in the account: it trusts the provider another stack (or a person)
    # created, and its destroy cannot delete it.
    run = run_pools(federated("a"), federated("b", role_name="PrefectManagedB"))
    assert run.find(PROVIDER) == []
    lookups = [args for token, args in run.invokes if token == GET_PROVIDER]
    assert lookups == [{"url": "https://api.prefect.cloud/oidc-provider"}]
    for pool in ("a", "b"):
        trust = json.loads(inputs(run.one(ROLE, f"{pool}-federated-role"))["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"] == {"Federated": PROVIDER_ARN}


def test_an_account_without_the_provider_stops_the_preview_before_anything_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_mocks, "ACCOUNT_OIDC_PROVIDERS", {})  # a fresh account
    record = ProgramRun(project="pushpools", stack="test")
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(PROJECT_DIR, settings_for({"pushpools:pools": [federated()]}), record=record)
    assert [r for r in record.resources if r.custom] == []
    assert str(caught.value) == (
        "pool 'managed': managed.aws_federated_identity.create_oidc_provider is false, but "
        "this AWS account has no IAM OIDC identity provider for "
        "https://api.prefect.cloud/oidc-provider, which the role trusts; set "
        "managed.aws_federated_identity.create_oidc_provider: true in one stack of this "
        "account (it then owns the provider, and keeps it on destroy), or create it once: aws "
        "iam create-open-id-connect-provider --url https://api.prefect.cloud/oidc-provider "
        "--client-id-list prefect-cloud"
    )


def test_a_provider_without_prefect_clouds_audience_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = {"clientIdLists": ["sts.amazonaws.com"], "tags": {}}
    monkeypatch.setattr(
        aws_mocks, "ACCOUNT_OIDC_PROVIDERS", {"api.prefect.cloud/oidc-provider": provider}
    )
    with pytest.raises(pulumi.RunError, match="does not list the audience 'prefect-cloud'"):
        run_pools(federated())


def test_the_creating_stack_owns_the_provider_and_keeps_it_on_destroy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aws_mocks, "ACCOUNT_OIDC_PROVIDERS", {})  # a fresh account
    retained = retain_on_delete_requests(monkeypatch)
    run = run_pools(
        federated("a", create_oidc_provider=True),
        federated("b", role_name="PrefectManagedB", create_oidc_provider=True),
        labels={"team": "data"},
    )
    provider = run.one(PROVIDER, "prefect-cloud-oidc-provider")
    assert inputs(provider) == {
        "url": "https://api.prefect.cloud/oidc-provider",
        "clientIdLists": ["prefect-cloud"],
        "tags": {
            "team": "data",
            "managed-by": "pushpools",
            "prefect-work-pool": "shared",
            "pushpools-stack": "pushpools/test",
        },
    }
    # At the stack's level, and retained: other stacks' roles trust it.
    assert str(provider.parent).endswith("::pulumi:pulumi:Stack::pushpools-test")
    assert retained["prefect-cloud-oidc-provider"] is True
    assert not [t for t, _ in run.invokes if t == GET_PROVIDER]
    for pool in ("a", "b"):
        trust = json.loads(inputs(run.one(ROLE, f"{pool}-federated-role"))["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"] == {"Federated": outputs(provider)["arn"]}


def test_a_provider_an_older_pushpools_stack_created_is_flagged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Before this release, create_oidc_provider defaulted to true and the provider carried
    # no owner: if this stack made it, its next `up` would delete it.
    old = {
        "clientIdLists": ["prefect-cloud"],
        "tags": {"managed-by": "pushpools", "prefect-work-pool": "shared"},
    }
    monkeypatch.setattr(
        aws_mocks, "ACCOUNT_OIDC_PROVIDERS", {"api.prefect.cloud/oidc-provider": old}
    )
    with caplog.at_level(logging.WARNING):
        run_pools(federated())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"Prefect Cloud's IAM OIDC identity provider ({PROVIDER_ARN}) was created by a "
        "pushpools stack before managed.aws_federated_identity.create_oidc_provider defaulted "
        "to false (it has no pushpools-stack tag). If this stack created it, set "
        "managed.aws_federated_identity.create_oidc_provider: true before `pulumi up`, or the "
        "update deletes it and every role that trusts it stops working."
    ]


@pytest.mark.parametrize(
    "tags",
    [
        {},  # made by hand, as Prefect's guide shows
        {"managed-by": "pushpools", "prefect-work-pool": "shared", "pushpools-stack": "p/prod"},
    ],
    ids=["by-hand", "owned-by-a-stack"],
)
def test_a_provider_made_by_hand_or_owned_by_a_stack_is_not_flagged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tags: dict[str, str]
) -> None:
    provider = {"clientIdLists": ["prefect-cloud"], "tags": tags}
    monkeypatch.setattr(
        aws_mocks, "ACCOUNT_OIDC_PROVIDERS", {"api.prefect.cloud/oidc-provider": provider}
    )
    with caplog.at_level(logging.WARNING):
        run_pools(federated())
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


def test_pools_of_a_stack_that_disagree_about_the_provider_are_refused() -> None:
    problems = config_problems(
        {
            "pushpools:pools": [
                federated("a", create_oidc_provider=True),
                federated("b", role_name="PrefectManagedB"),
            ]
        }
    )
    assert problems == [
        "pushpools:pools[1].managed.aws_federated_identity.create_oidc_provider: false "
        "disagrees with pool 'a' (managed.aws_federated_identity.create_oidc_provider: true); "
        "Prefect Cloud's IAM OIDC identity provider is one per account, which this stack "
        "either creates or looks up, so every pool of the stack says the same; allowed: true, "
        "or change pool 'a' too"
    ]


def test_a_program_whose_components_disagree_about_the_provider_is_stopped() -> None:
    from pushpools.components.managed.pool import ManagedPool

    def identity(create: bool) -> dict[str, Any]:
        return {
            "prefect_account_id": ACCOUNT,
            "region": "eu-west-1",
            "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            "create_oidc_provider": create,
        }

    def program() -> None:
        ManagedPool("a", {"aws_federated_identity": identity(True)})
        ManagedPool("b", {"aws_federated_identity": identity(False)})

    record = ProgramRun(project="my-platform", stack="dev")
    with pytest.raises(ComponentArgsError) as caught:
        run_program(
            program, project="my-platform", stack="dev", config={}, secret_keys=[], record=record
        )
    assert caught.value.problems == [
        "managed.aws_federated_identity.create_oidc_provider: false disagrees with pool 'a' "
        "of this program (true); Prefect Cloud's IAM OIDC identity provider is one per "
        "account, which the program either creates or looks up; give every pool the same value"
    ]
    assert not [r for r in record.resources if r.parent and r.parent.endswith("::b")]


@pytest.mark.parametrize(
    ("identity", "key", "expected"),
    [
        (
            {"prefect_account_id": "acme"},
            "prefect_account_id",
            "'acme' is not a Prefect Cloud account ID; allowed: the UUID after /accounts/",
        ),
        ({"region": "eu-west-9"}, "region", "'eu-west-9' is not an AWS region; allowed: "),
        (
            {"managed_policy_arns": [], "statements": []},
            "",
            "the role would have no permissions; list what the flow runs need in "
            "managed_policy_arns or statements",
        ),
        (
            {"statements": [{"actions": ["GetObject"], "resources": ["*"]}]},
            "statements[0].actions",
            "'GetObject' is not an IAM action; allowed: service:Action",
        ),
        (
            {"statements": [{"actions": ["s3:GetObject"], "resources": ["my-bucket"]}]},
            "statements[0].resources",
            "'my-bucket' is not an AWS resource ARN",
        ),
        (
            {"managed_policy_arns": ["AmazonS3ReadOnlyAccess"]},
            "managed_policy_arns",
            "'AmazonS3ReadOnlyAccess' is not an IAM managed policy ARN",
        ),
        ({"role_name": "a b"}, "role_name", "'a b' is not a valid IAM role name"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(
    identity: dict[str, Any], key: str, expected: str
) -> None:
    problems = config_problems({"pushpools:pools": [federated(**identity)]})
    assert len(problems) == 1, problems
    prefix = "pushpools:pools[0].managed.aws_federated_identity"
    where = f"{prefix}.{key}" if key else prefix
    assert problems[0].startswith(f"{where}: "), problems[0]
    assert expected in problems[0]


def test_a_role_name_used_twice_in_the_account_is_refused() -> None:
    ecs = {"name": "etl", "type": "ecs:push", "aws": {"region": "eu-west-1"}}
    clash = federated(role_name="etl-execution-role")
    problems = config_problems({"pushpools:pools": [ecs, clash]})
    assert problems == [
        "pushpools:pools[1].managed.aws_federated_identity.role_name: IAM role "
        "'etl-execution-role' (IAM names ignore case) in AWS account is already used "
        "by pool 'etl'; give one of them another name"
    ]


def test_a_managed_pool_without_federation_imports_no_aws_sdk(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.managed.yaml"
    stack.write_text(
        yaml.safe_dump({"config": {"pushpools:pools": [{"name": "m", "type": "prefect:managed"}]}})
    )
    imported = modules_imported_by_plan(stack)
    assert imported["status"] == 0
    assert "pulumi_aws" not in imported["top"]


# A stand-in for the Managed template: the shape of the variable Prefect documents
# ({kind, aws_role_arn, aws_region_name}); the real template is served by Prefect Cloud.
_WITH_FEDERATION = {
    "job_configuration": {"federated_identity": "{{ federated_identity }}"},
    "variables": {
        "type": "object",
        "properties": {
            "federated_identity": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["aws"]},
                    "aws_role_arn": {"type": "string"},
                    "aws_region_name": {"type": "string"},
                },
            }
        },
    },
}


def test_the_default_is_set_on_a_template_that_declares_the_variable(run: ProgramRun) -> None:
    defaults = run.outputs["pools"]["managed"]["template_defaults"]
    rendered = render_template(_WITH_FEDERATION, defaults)
    assert rendered["variables"]["properties"]["federated_identity"]["default"] == {
        "kind": "aws",
        "aws_role_arn": "arn:aws:iam::123456789012:role/managed-flow-runs",
        "aws_region_name": "eu-west-1",
    }


def test_a_template_without_the_variable_fails_loudly(run: ProgramRun) -> None:
    # An older Managed pool template (Prefect: "If the Federated Identity section does not
    # appear ... refresh its base job template"): registration must stop, never drop it.
    older = {"job_configuration": {}, "variables": {"type": "object", "properties": {"env": {}}}}
    defaults = run.outputs["pools"]["managed"]["template_defaults"]
    with pytest.raises(TemplateError, match="no variable 'federated_identity'"):
        render_template(older, defaults)
