"""The pipeline's identities (ci/): trust pinned to the repository and to the branch or
GitHub environment, and the narrow roles each identity gets, on the offline engine."""

from __future__ import annotations

import json
import runpy

import pytest
import yaml
from harness import PROJECT_DIR, inputs

from pushpools_tools.engine import ProgramRun, run_program
from pushpools_tools.provider_mocks.aws import ACCOUNT_ID

CI_DIR = PROJECT_DIR / "ci"
REPO = "acme/data-platform"


def _run(config: dict | None = None) -> ProgramRun:
    values = (
        config or yaml.safe_load((CI_DIR / "stacks" / "Pulumi.github.yaml").read_text())["config"]
    )
    return run_program(
        lambda: runpy.run_path(str(CI_DIR / "__main__.py"), run_name="__main__"),
        project="pushpools-ci",
        stack="github",
        config={k: json.dumps(v) for k, v in values.items()},
        secret_keys=[],
    )


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return _run()


def test_gcp_trusts_only_the_repository(run) -> None:
    provider = inputs(run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"))
    assert provider["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert provider["attributeCondition"] == f"assertion.repository == '{REPO}'"


def test_gcp_each_account_is_impersonable_by_its_subjects_only(run) -> None:
    bindings = {}
    for r in run.find("gcp:serviceaccount/iAMMember:IAMMember"):
        i = inputs(r)
        assert i["role"] == "roles/iam.workloadIdentityUser"
        bindings.setdefault(i["serviceAccountId"].rsplit("/", 1)[-1].split("@")[0], set()).add(
            i["member"].rsplit("/subject/", 1)[-1]
        )
    assert bindings == {
        "github-preview": {f"repo:{REPO}:pull_request", f"repo:{REPO}:ref:refs/heads/main"},
        "github-deploy-dev": {f"repo:{REPO}:environment:dev"},
        "github-deploy-prod": {f"repo:{REPO}:environment:prod"},
    }


def test_gcp_preview_reads_and_deploy_grants_only_the_pools_roles(run) -> None:
    grants = {}
    for r in run.find("gcp:projects/iAMMember:IAMMember"):
        i = inputs(r)
        grants.setdefault(i["member"].split(":")[1].split("@")[0], {})[i["role"]] = i.get(
            "condition"
        )
    assert set(grants["github-preview"]) == {"roles/viewer", "roles/iam.securityReviewer"}
    condition = grants["github-deploy-prod"]["roles/resourcemanager.projectIamAdmin"]
    assert condition["expression"] == (
        "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', [])"
        ".hasOnly(['roles/iam.serviceAccountUser', 'roles/run.developer'])"
    )
    assert "roles/owner" not in str(grants)
    assert "roles/editor" not in str(grants)


def test_aws_roles_trust_their_subjects_with_the_audience_pinned(run) -> None:
    provider = inputs(run.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    trusts = {
        inputs(r)["name"]: json.loads(inputs(r)["assumeRolePolicy"])["Statement"]
        for r in run.find("aws:iam/role:Role")
    }
    host = "token.actions.githubusercontent.com"
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    assert trusts["github-deploy-prod"] == [
        {
            "Effect": "Allow",
            "Principal": {"Federated": arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{host}:aud": "sts.amazonaws.com",
                    f"{host}:sub": [f"repo:{REPO}:environment:prod"],
                }
            },
        }
    ]
    preview = trusts["github-preview"][0]["Condition"]["StringEquals"][f"{host}:sub"]
    assert preview == [f"repo:{REPO}:pull_request", f"repo:{REPO}:ref:refs/heads/main"]


def test_aws_preview_is_read_only_and_deploy_iam_is_limited_to_the_pools_names(run) -> None:
    policies = {
        inputs(r)["role"]: json.loads(inputs(r)["policy"])["Statement"]
        for r in run.find("aws:iam/rolePolicy:RolePolicy")
    }
    preview_actions = policies["github-preview"][0]["Action"]
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in preview_actions)
    iam_statement = next(s for s in policies["github-deploy-dev"] if s["Action"] == ["iam:*"])
    assert "*" not in iam_statement["Resource"]
    assert "arn:aws:iam::*:role/*-prefect-*" in iam_statement["Resource"]


def test_azure_apps_have_federated_credentials_and_no_secret(run) -> None:
    credentials = [
        inputs(r)
        for r in run.find(
            "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
        )
    ]
    assert {c["subject"] for c in credentials} == {
        f"repo:{REPO}:pull_request",
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{REPO}:environment:dev",
        f"repo:{REPO}:environment:prod",
    }
    assert all(c["audiences"] == ["api://AzureADTokenExchange"] for c in credentials)
    assert run.find("azuread:index/applicationPassword:ApplicationPassword") == []
    roles = {
        inputs(r)["roleDefinitionId"].rsplit("/", 1)[-1]
        for r in run.find("azure-native:authorization:RoleAssignment")
        if "preview" in r.name
    }
    assert roles == {"acdd72a7-3385-48ef-bd42-f606fba81ae7"}  # Reader only


def test_outputs_are_the_variables_the_workflows_read(run) -> None:
    workflows = "".join(
        p.read_text() for p in (PROJECT_DIR / ".github" / "workflows").glob("*.yml")
    )
    for name in run.outputs:
        assert f"vars.{name}" in workflows, name
    assert set(run.outputs["AWS_DEPLOY_ROLE_ARN"]) == {"dev", "prod"}


def test_a_bad_repository_is_refused_naming_the_key() -> None:
    with pytest.raises(SystemExit) as refused:
        _run({"pushpools-ci:github": {"repository": "not a repo"}})
    assert "pushpools-ci:github.repository: 'not a repo' is not owner/name" in str(refused.value)
