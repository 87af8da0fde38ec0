"""Deliberately bad variants of the shipped stacks: each rule fires, saying what to change.

Where pushpools itself can be configured into the bad state (a project-wide act-as grant,
AmazonECS_FullAccess), the variant is a stack file planned by pushpools; otherwise the
planned inputs of a shipped stack are edited the way a hand-written program would differ.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crossguard import UNKNOWN, analyze, analyze_stack, servicer
from tests.plans import PROJECT, find, plan, stack_resource


@pytest.fixture(scope="module")
def dev(shipped_plans: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return shipped_plans["Pulumi.dev.yaml"]


@pytest.fixture(scope="module")
def prod(shipped_plans: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return shipped_plans["Pulumi.prod.yaml"]


@pytest.fixture(scope="module")
def broad_dev(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The dev stack with the two broad opt-ins pushpools offers turned on."""
    stack = yaml.safe_load((PROJECT / "stacks" / "Pulumi.dev.yaml").read_text())
    for pool in stack["config"]["pushpools:pools"]:
        if pool["type"] == "cloud-run:push":
            pool["gcp"]["service_account_user_scope"] = "project"
        if pool["type"] == "ecs:push":
            pool["aws"]["attach_ecs_full_access"] = True
    path: Path = tmp_path_factory.mktemp("stacks") / "Pulumi.broad.yaml"
    path.write_text(yaml.safe_dump(stack))
    return plan(path)


def edited(resource: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    changed["inputs"].update(inputs)
    return changed


def only(found: list[tuple[str, str]], policy: str) -> str:
    assert [name for name, _ in found] == [policy], found
    return found[0][1]


def test_project_wide_service_account_user_is_refused(broad_dev: dict[str, Any]) -> None:
    grant = find(
        broad_dev, "gcp:projects/iAMMember:IAMMember", "dev-cloud-run-roles-iam-serviceaccountuser"
    )
    message = only(analyze(grant), "no-project-wide-service-account-user")
    granted_to = "roles/iam.serviceAccountUser is granted to serviceAccount:dev-cloud-run-prefect@"
    assert granted_to in message
    assert "on the whole project acme-data-dev" in message
    assert "remove `service_account_user_scope: project`" in message


def test_a_project_iam_policy_with_project_wide_act_as_is_refused() -> None:
    policy = {
        "type": "gcp:projects/iAMPolicy:IAMPolicy",
        "name": "p",
        "inputs": {
            "project": "acme",
            "policyData": json.dumps(
                {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": ["user:a@b.c"]}]}
            ),
        },
    }
    message = only(analyze(policy), "no-project-wide-service-account-user")
    assert "user:a@b.c on the whole project acme" in message


def test_ecs_full_access_is_refused(broad_dev: dict[str, Any]) -> None:
    attachment = find(
        broad_dev,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "dev-ecs-ecs-full-access",
    )
    message = only(analyze(attachment), "no-passrole-or-ecs-on-any-resource")
    assert "arn:aws:iam::aws:policy/AmazonECS_FullAccess is attached to dev-ecs-prefect" in message
    assert "leave attach_ecs_full_access off" in message


def _with_statement(resource: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(resource["inputs"]["policy"])
    document["Statement"].append(statement)
    return edited(resource, policy=json.dumps(document))


def test_pass_role_on_any_resource_is_refused(dev: dict[str, Any]) -> None:
    policy = find(dev, "aws:iam/policy:Policy", "dev-ecs-prefect-policy")
    bad = _with_statement(
        policy,
        {"Sid": "PassAnything", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    )
    message = only(analyze(bad), "no-passrole-or-ecs-on-any-resource")
    assert 'statement PassAnything allows iam:PassRole on "*"' in message
    assert "list the ARNs of the roles it may pass" in message


@pytest.mark.parametrize("action", ["ecs:RunTask", "ecs:*", "*", "ECS:run*"])
def test_ecs_actions_on_any_resource_are_refused(dev: dict[str, Any], action: str) -> None:
    policy = find(dev, "aws:iam/policy:Policy", "dev-ecs-prefect-policy")
    bad = _with_statement(policy, {"Effect": "Allow", "Action": [action], "Resource": ["*"]})
    found = analyze(bad)
    messages = [m for name, m in found if name == "no-passrole-or-ecs-on-any-resource"]
    fix = 'on "*"; grant them on the pool\'s own cluster, task definitions and tasks'
    ecs = [m for m in messages if fix in m]
    assert len(ecs) == 1
    assert "allows ecs:" in ecs[0]
    # `*` also allows iam:PassRole, reported on its own; nothing else fires.
    assert len(messages) == (2 if action == "*" else 1)
    assert {name for name, _ in found} == {"no-passrole-or-ecs-on-any-resource"}


def test_ecs_reads_aws_authorizes_only_on_any_resource_pass(dev: dict[str, Any]) -> None:
    policy = find(dev, "aws:iam/policy:Policy", "dev-ecs-prefect-policy")
    fine = _with_statement(
        policy,
        {
            "Effect": "Allow",
            "Action": ["ecs:ListClusters", "ecs:List*Definitions"],
            "Resource": "*",
        },
    )
    assert analyze(fine) == []


def test_a_role_inline_policy_with_pass_role_on_any_resource_is_refused(
    dev: dict[str, Any],
) -> None:
    role = find(dev, "aws:iam/role:Role", "dev-ecs-execution-role")
    bad = edited(
        role,
        inlinePolicies=[
            {
                "name": "broad",
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}
                ),
            }
        ],
    )
    message = only(analyze(bad), "no-passrole-or-ecs-on-any-resource")
    assert "inline policy 'broad' of role 'dev-ecs-execution-role'" in message
    assert "allows every action except ['s3:*']" in message


@pytest.mark.parametrize(
    ("guid", "role"),
    [
        ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
        ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"),
    ],
)
def test_an_azure_role_above_contributor_is_refused(
    dev: dict[str, Any], guid: str, role: str
) -> None:
    assignment = find(
        dev, "azure-native:authorization:RoleAssignment", "dev-aci-run-container-groups"
    )
    contributor = assignment["inputs"]["roleDefinitionId"]
    bad = edited(assignment, roleDefinitionId=contributor.rsplit("/", 1)[0] + "/" + guid)
    message = only(analyze(bad), "no-azure-role-above-contributor")
    assert f"gives {role} ({guid}) to principal" in message
    assert "Contributor on the pool's resource group at most" in message


def test_a_custom_azure_role_that_can_assign_roles_is_refused(prod: dict[str, Any]) -> None:
    definition = find(prod, "azure-native:authorization:RoleDefinition", "prod-aci-aci-runner-role")
    permissions = copy.deepcopy(definition["inputs"]["permissions"])
    permissions[0]["actions"].append("Microsoft.Authorization/*")
    message = only(
        analyze(edited(definition, permissions=permissions)), "no-azure-role-above-contributor"
    )
    assert "allows 'Microsoft.Authorization/*'" in message
    assert "add Microsoft.Authorization/*/Write to notActions" in message


def test_an_entra_secret_without_end_date_is_refused(dev: dict[str, Any]) -> None:
    secret = find(
        dev, "azuread:index/applicationPassword:ApplicationPassword", "dev-aci-client-secret"
    )
    bad = copy.deepcopy(secret)
    del bad["inputs"]["endDate"]
    message = only(analyze(bad), "entra-client-secret-expires")
    assert "'pushpools dev-aci generation 1' has no end date, so it never expires" in message
    assert "set endDate to a date at most 730 days ahead" in message
    assert "client_secret_expires_on" in message


def test_an_entra_secret_ending_more_than_two_years_away_is_refused(dev: dict[str, Any]) -> None:
    secret = find(
        dev, "azuread:index/applicationPassword:ApplicationPassword", "dev-aci-client-secret"
    )
    far = (datetime.now(UTC) + timedelta(days=800)).strftime("%Y-%m-%dT00:00:00Z")
    message = only(analyze(edited(secret, endDate=far)), "entra-client-secret-expires")
    assert "the longest allowed is 730 days" in message
    # A team may hold itself to less:
    shorter = servicer({"entra-client-secret-expires": {"maxDays": 180}})
    near = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT00:00:00Z")
    found = analyze(edited(secret, endDate=near), shorter)
    assert [n for n, _ in found] == ["entra-client-secret-expires"]
    assert "at most 180 days ahead" in found[0][1]


def test_missing_ownership_tags_are_reported(dev: dict[str, Any], prod: dict[str, Any]) -> None:
    vpc = find(dev, "aws:ec2/vpc:Vpc", "dev-ecs-vpc")
    message = only(analyze(edited(vpc, tags={"team": "data"})), "ownership-tags")
    assert "no 'managed-by' and no 'prefect-work-pool' tag" in message
    repository = find(dev, "gcp:artifactregistry/repository:Repository", "dev-cloud-run-images")
    labels = {k: v for k, v in repository["inputs"]["labels"].items() if k != "prefect-work-pool"}
    message = only(analyze(edited(repository, labels=labels)), "ownership-tags")
    assert "no 'prefect-work-pool' label" in message
    group = find(prod, "azure-native:managedidentity:UserAssignedIdentity", "prod-aci-acr-identity")
    assert only(analyze(edited(group, tags=None)), "ownership-tags")


def test_a_credential_in_a_plain_output_is_refused(dev: dict[str, Any]) -> None:
    stack = stack_resource(dev)
    leaked = copy.deepcopy(stack)
    leaked["inputs"]["debug"] = {
        "dev-ecs": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "abc/def"}
    }
    # A key file's shape, not a key (split so that secret scanners do not flag the test).
    pem_header = "-----BEGIN " + "PRIVATE KEY-----"
    leaked["inputs"]["gcp_key"] = json.dumps(
        {"type": "service_account", "private_key": f"{pem_header}\nMII..."}
    )
    found = analyze_stack([leaked])
    assert {(name, urn) for name, urn, _ in found} == {
        ("no-credentials-in-plain-outputs", stack["urn"])
    }
    messages = sorted(m for _, _, m in found)
    assert len(messages) == 2
    assert "stack output debug.dev-ecs.aws_secret_access_key holds a credential" in messages[0]
    assert "stack output gcp_key.private_key holds a credential (private_key)" in messages[1]
    assert "export credentials only inside a secret output" in messages[0]


def test_block_payloads_belong_in_credentials_blocks_only(dev: dict[str, Any]) -> None:
    stack = stack_resource(dev)
    renamed = copy.deepcopy(stack)
    payload = {"dev-aci": {"data": {"client_id": "x", "client_secret": "s3cr3t"}}}
    renamed["inputs"]["credentials_blocks"] = payload
    assert analyze_stack([renamed]) == []  # its own, secret, output
    renamed["inputs"]["block_payloads"] = payload
    found = analyze_stack([renamed])
    assert len(found) == 1
    assert "block_payloads.dev-aci.data.client_secret" in found[0][2]


def _key(resource_type: str, name: str, **outputs: Any) -> dict[str, Any]:
    return {
        "type": resource_type,
        "name": name,
        "urn": f"urn:pulumi:dev::pushpools::{resource_type}::{name}",
        "inputs": {},
        "outputs": outputs,
    }


def test_an_old_key_is_reported_with_how_to_rotate_it() -> None:
    old = (datetime.now(UTC) - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    resources = [
        _key("aws:iam/accessKey:AccessKey", "dev-ecs-access-key-1", createDate=old),
        _key("gcp:serviceaccount/key:Key", "dev-cloud-run-key", validAfter=new),
        _key(
            "azuread:index/applicationPassword:ApplicationPassword",
            "dev-aci-client-secret",
            startDate=old,
        ),
        # A key being created during preview has no date yet: nothing to judge.
        _key("gcp:serviceaccount/key:Key", "dev-cloud-run-key-2", validAfter=UNKNOWN),
    ]
    found = analyze_stack(resources)
    assert [(n, u.rsplit("::", 1)[-1]) for n, u, _ in found] == [
        ("key-max-age", "dev-ecs-access-key-1"),
        ("key-max-age", "dev-aci-client-secret"),
    ]
    assert "created 120 days ago" in found[0][2]
    assert "more than the 90 days allowed" in found[0][2]
    assert "bump `key_generation` in the pool's aws section" in found[0][2]
    assert "bump `secret_generation` in the pool's azure section" in found[1][2]
    stricter = servicer({"key-max-age": {"maxAgeDays": 7}})
    assert len(analyze_stack(resources, stricter)) == 3


def test_an_unknown_value_during_preview_does_not_break_the_pack(dev: dict[str, Any]) -> None:
    assignment = find(
        dev, "azure-native:authorization:RoleAssignment", "dev-aci-run-container-groups"
    )
    found = analyze(edited(assignment, roleDefinitionId=UNKNOWN))
    # pulumi_policy reports that the rule could not run yet; it runs on `pulumi up`.
    assert [name for name, _ in found] == ["no-azure-role-above-contributor"]
    assert "can't be known during preview" in found[0][1]


def test_a_keyless_role_with_broad_inline_grants_is_refused(
    shipped_plans: dict[str, dict[str, Any]],
) -> None:
    keyless = shipped_plans["Pulumi.keyless.yaml"]
    inline = find(keyless, "aws:iam/rolePolicy:RolePolicy", "keyless-managed-federated-permissions")
    bad = _with_statement(inline, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})
    message = only(analyze(bad), "no-passrole-or-ecs-on-any-resource")
    assert 'allows iam:PassRole on "*"' in message
