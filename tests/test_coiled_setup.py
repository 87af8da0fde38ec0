"""Coiled's own cloud setup (`coiled.cloud_setup`): what `coiled setup aws|gcp` creates,
declared by the pool, on the offline engine; its names, trust, grants and outputs, and the
plan that shows it.

tests/coiled/coiled_setup_1.135.0.json holds the documents and roles of the `coiled` package
1.135.0 (`coiled/cli/setup/aws.py` and `gcp.py`), extracted from its wheel with Python's ast
module: the declared permissions are compared with them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pushpools.components.coiled import gcp_roles
from pushpools_tools.engine import ProgramRun, Registration
from pushpools_tools.plan import render_text
from tests.harness import inputs, run_config

COILED = json.loads((Path(__file__).parent / "coiled" / "coiled_setup_1.135.0.json").read_text())
SECRET_KEYS = ["pushpools:coiledApiToken"]
COILED_PRINCIPAL = "arn:aws:iam::111122223333:root"
EXTERNAL_ID = "ws-acme-8f3a2c"


def coiled_config(*pools: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "pushpools:pools": list(pools),
        "pushpools:coiledApiToken": "coiled-tok-setup",
    }
    if labels:
        config["pushpools:labels"] = labels
    return config


def aws_pool(name: str = "coiled-aws", **setup: Any) -> dict[str, Any]:
    aws = {"coiled_principal": COILED_PRINCIPAL, "external_id": EXTERNAL_ID, **setup}
    return {
        "name": name,
        "type": "coiled:push",
        "coiled": {"workspace": "acme", "cloud_setup": {"aws": aws}},
    }


def gcp_pool(name: str = "coiled-gcp", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "coiled:push",
        **extra,
        "coiled": {"cloud_setup": {"gcp": {"project": "acme-data"}}},
    }


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_config(coiled_config(aws_pool(), gcp_pool(), labels={"team": "data"}), SECRET_KEYS)


def one(run: ProgramRun, type_: str, name: str) -> dict[str, Any]:
    return inputs(run.one(type_, name))


def _document(resource: Registration, key: str) -> dict[str, Any]:
    return json.loads(inputs(resource)[key])


# AWS


def test_the_role_trusts_only_coileds_principal_with_the_workspaces_external_id(
    run: ProgramRun,
) -> None:
    role = run.one("aws:iam/role:Role", "coiled-aws-coiled-role")
    assert _document(role, "assumeRolePolicy")["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": COILED_PRINCIPAL},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        }
    ]
    assert inputs(role)["name"] == "coiled-aws-coiled"


def test_a_bare_account_id_is_trusted_as_that_accounts_root() -> None:
    run = run_config(coiled_config(aws_pool(coiled_principal="111122223333")), SECRET_KEYS)
    trust = _document(run.one("aws:iam/role:Role", "coiled-aws-coiled-role"), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}


def test_the_setup_and_ongoing_policies_are_attached_to_the_role(run: ProgramRun) -> None:
    attached = {
        inputs(a)["policyArn"]
        for a in run.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if inputs(a)["role"] == "coiled-aws-coiled"
    }
    assert attached == {
        "arn:aws:iam::123456789012:policy/coiled-aws-coiled-setup",
        "arn:aws:iam::123456789012:policy/coiled-aws-coiled-ongoing",
    }


def test_the_policies_grant_exactly_coileds_actions(run: ProgramRun) -> None:
    def actions(document: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for statement in document["Statement"]:
            action = statement["Action"]
            found |= {action} if isinstance(action, str) else set(action)
        return found

    setup = _document(run.one("aws:iam/policy:Policy", "coiled-aws-coiled-setup"), "policy")
    ongoing = _document(run.one("aws:iam/policy:Policy", "coiled-aws-coiled-ongoing"), "policy")
    instance = _document(
        run.one("aws:iam/rolePolicy:RolePolicy", "coiled-aws-coiled-instance-logs"), "policy"
    )
    assert actions(setup) == actions(COILED["aws_setup_policy"])
    assert actions(ongoing) == actions(COILED["aws_ongoing_policy"])
    assert actions(instance) == actions(COILED["aws_instance_policy"])
    # Coiled's own condition on the destructive calls is kept.
    destructive = next(s for s in ongoing["Statement"] if s["Sid"] == "OngoingDestructive")
    assert destructive["Condition"] == {"StringEquals": {"ec2:ResourceTag/owner": "coiled"}}


def test_the_instance_role_is_scoped_to_this_account_and_passed_only_to_ec2(
    run: ProgramRun,
) -> None:
    ongoing = _document(run.one("aws:iam/policy:Policy", "coiled-aws-coiled-ongoing"), "policy")
    statements = {s["Sid"]: s for s in ongoing["Statement"]}
    instance_role = "arn:aws:iam::123456789012:role/coiled-aws-coiled-instance"
    assert statements["OngoingPassInstanceRole"]["Resource"] == [
        "arn:aws:iam::123456789012:role/coiled-*",
        instance_role,
    ]
    assert statements["OngoingPassInstanceRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}
    }
    assert statements["OngoingInstanceProfile"]["Resource"] == [
        "arn:aws:iam::123456789012:instance-profile/coiled-*",
        "arn:aws:iam::123456789012:instance-profile/coiled-aws-coiled-instance",
    ]
    # Coiled writes `arn:*:...:*:` (any partition, any account): nothing of the kind is left.
    assert "arn:*" not in json.dumps(ongoing)
    assert ":*:role/" not in json.dumps(ongoing)


def test_the_vms_profile_holds_the_instance_role_with_coileds_log_policy(
    run: ProgramRun,
) -> None:
    profile = one(
        run, "aws:iam/instanceProfile:InstanceProfile", "coiled-aws-coiled-instance-profile"
    )
    assert profile["role"] == "coiled-aws-coiled-instance"
    role = run.one("aws:iam/role:Role", "coiled-aws-coiled-instance-role")
    assert _document(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    logs = one(run, "aws:iam/rolePolicy:RolePolicy", "coiled-aws-coiled-instance-logs")
    assert (logs["role"], logs["name"]) == ("coiled-aws-coiled-instance", "CoiledInstancePolicy")


def test_every_aws_resource_carries_the_stacks_labels(run: ProgramRun) -> None:
    for type_ in (
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/instanceProfile:InstanceProfile",
    ):
        for resource in run.find(type_):
            assert inputs(resource)["tags"] == {
                "team": "data",
                "managed-by": "pushpools",
                "prefect-work-pool": "coiled-aws",
            }, resource.name


def test_the_setup_policy_can_be_detached_once_coiled_is_set_up() -> None:
    run = run_config(coiled_config(aws_pool(setup_policy_attached=False)), SECRET_KEYS)
    attached = [
        inputs(a)["policyArn"]
        for a in run.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    ]
    assert attached == ["arn:aws:iam::123456789012:policy/coiled-aws-coiled-ongoing"]
    # The policy itself stays, ready to attach again.
    assert run.find("aws:iam/policy:Policy", "coiled-aws-coiled-setup")


def test_helper_naming_gives_coiled_setups_own_names() -> None:
    pool = {**aws_pool(), "naming": "helper"}
    run = run_config(coiled_config(pool), SECRET_KEYS)
    names = {(r.type.rsplit(":", 1)[-1], inputs(r).get("name")) for r in run.resources if r.custom}
    assert {
        ("Role", "coiled-role-assumption"),
        ("Policy", "coiled-setup"),
        ("Policy", "coiled-ongoing"),
        # Coiled's control plane names the VMs' role and profile after the workspace.
        ("Role", "acme"),
        ("InstanceProfile", "acme"),
    } <= names


def test_the_role_arn_to_paste_into_coiled_is_a_stack_output(run: ProgramRun) -> None:
    assert run.outputs["coiled_setup"]["coiled-aws"] == {
        "aws_role_arn": "arn:aws:iam::123456789012:role/coiled-aws-coiled"
    }


# GCP


def test_helper_naming_gives_coiled_setup_gcps_accounts_and_roles() -> None:
    run = run_config(coiled_config(gcp_pool(naming="helper")), SECRET_KEYS)
    accounts = {inputs(a)["accountId"] for a in run.find("gcp:serviceaccount/account:Account")}
    roles = {inputs(r)["roleId"] for r in run.find("gcp:projects/iAMCustomRole:IAMCustomRole")}
    assert (accounts, roles) == ({"coiled", "coiled-data"}, {"coiled", "coiled_data"})


def test_derived_names_follow_the_pool_and_role_ids_have_no_dashes(run: ProgramRun) -> None:
    accounts = {inputs(a)["accountId"] for a in run.find("gcp:serviceaccount/account:Account")}
    roles = {inputs(r)["roleId"] for r in run.find("gcp:projects/iAMCustomRole:IAMCustomRole")}
    assert accounts == {"coiled-gcp-coiled", "coiled-gcp-coiled-data"}
    assert roles == {"coiled_gcp_coiled", "coiled_gcp_coiled_data"}


def test_the_custom_roles_hold_coileds_permissions_less_project_wide_act_as(
    run: ProgramRun,
) -> None:
    control = one(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "coiled-gcp-coiled-role")
    data = one(run, "gcp:projects/iAMCustomRole:IAMCustomRole", "coiled-gcp-coiled-data-role")
    coiled_control = set(COILED["gcp_control_plane_role"]["includedPermissions"])
    assert set(control["permissions"]) == coiled_control - {gcp_roles.ACT_AS}
    assert gcp_roles.ACT_AS in coiled_control  # what the narrowing takes out
    assert set(data["permissions"]) == set(COILED["gcp_data_role"]["includedPermissions"])


def test_each_account_gets_its_role_on_the_project_and_act_as_only_on_the_data_account(
    run: ProgramRun,
) -> None:
    control = "serviceAccount:coiled-gcp-coiled@acme-data.iam.gserviceaccount.com"
    data = "serviceAccount:coiled-gcp-coiled-data@acme-data.iam.gserviceaccount.com"
    project_grants = {
        (inputs(m)["member"], inputs(m)["role"])
        for m in run.find("gcp:projects/iAMMember:IAMMember")
    }
    assert project_grants == {
        (control, "projects/acme-data/roles/coiled_gcp_coiled"),
        (data, "projects/acme-data/roles/coiled_gcp_coiled_data"),
    }
    [act_as] = [inputs(m) for m in run.find("gcp:serviceaccount/iAMMember:IAMMember")]
    assert act_as == {
        "serviceAccountId": (
            "projects/acme-data/serviceAccounts/coiled-gcp-coiled-data@acme-data.iam.gserviceaccount.com"
        ),
        "role": "roles/iam.serviceAccountUser",
        "member": control,
    }


def test_the_apis_coiled_setup_gcp_enables_are_enabled_and_kept_on_destroy(
    run: ProgramRun,
) -> None:
    services = [inputs(s) for s in run.find("gcp:projects/service:Service")]
    assert {s["service"] for s in services} == {
        "compute.googleapis.com",
        "bigquery.googleapis.com",
        "logging.googleapis.com",
        "monitoring.googleapis.com",
    }
    assert all(s["disableOnDestroy"] is False for s in services)


def test_the_service_accounts_to_name_in_coiled_are_stack_outputs(run: ProgramRun) -> None:
    assert run.outputs["coiled_setup"]["coiled-gcp"] == {
        "gcp_service_account": "coiled-gcp-coiled@acme-data.iam.gserviceaccount.com",
        "gcp_data_service_account": "coiled-gcp-coiled-data@acme-data.iam.gserviceaccount.com",
    }


def test_no_key_of_any_account_is_made(run: ProgramRun) -> None:
    assert run.find("gcp:serviceaccount/key:Key") == []
    assert run.find("aws:iam/accessKey:AccessKey") == []


# Both


CLOUD = (
    "https://api.prefect.cloud/api/accounts/0b8f9c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e/"
    "workspaces/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)


@pytest.mark.parametrize(
    ("pool", "grants"),
    [
        (
            aws_pool(),
            {
                (
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "coiled-aws-coiled-setup-attachment",
                ),
                (
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "coiled-aws-coiled-ongoing-attachment",
                ),
                ("aws:iam/rolePolicy:RolePolicy", "coiled-aws-coiled-instance-logs"),
            },
        ),
        (
            gcp_pool(),
            {
                ("gcp:projects/iAMMember:IAMMember", "coiled-gcp-coiled-sa-role"),
                ("gcp:projects/iAMMember:IAMMember", "coiled-gcp-coiled-data-sa-role"),
                ("gcp:serviceaccount/iAMMember:IAMMember", "coiled-gcp-coiled-sa-acts-as-data-sa"),
            },
        ),
    ],
    ids=["aws", "gcp"],
)
def test_the_work_pool_is_registered_only_after_every_grant_of_the_setup(
    pool: dict[str, Any], grants: set[tuple[str, str]]
) -> None:
    """Prefect never sends runs to Coiled before Coiled may act in the cloud."""
    config = {
        **coiled_config(pool),
        "pushpools:prefect": {"api_url": CLOUD},
        "pushpools:prefectApiKey": "pnu_test",
    }
    run = run_config(config, [*SECRET_KEYS, "pushpools:prefectApiKey"])
    work_pool = run.one("pulumi-python:dynamic/prefect:WorkPool", f"{pool['name']}-work-pool")
    assert {run.one(t, n).urn for t, n in grants} <= set(work_pool.dependencies)


def test_the_plan_shows_the_setup_and_its_policies(run: ProgramRun) -> None:
    text = render_text(run)
    for shown in (
        "+ aws:iam/role:Role  coiled-aws-coiled-role",
        "+ aws:iam/policy:Policy  coiled-aws-coiled-ongoing",
        "+ aws:iam/instanceProfile:InstanceProfile  coiled-aws-coiled-instance-profile",
        '"sts:ExternalId": "ws-acme-8f3a2c"',
        "+ gcp:projects/iAMCustomRole:IAMCustomRole  coiled-gcp-coiled-role",
        "compute.instances.create",
    ):
        assert shown in text
