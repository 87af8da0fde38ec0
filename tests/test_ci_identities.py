"""The pipeline's identities (ci/): trust pinned to the repository and to the branch or
GitHub environment, the narrow roles each identity gets, and plan x grants: each deploy
identity can create what its environment's shipped stack declares, and nothing outside it
(all on the offline engine)."""

from __future__ import annotations

import json
import re
import runpy
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

import pytest
import yaml
from harness import PROJECT_DIR, inputs

from pushpools_tools.ci_identities import AzureGithubIdentities, only_assigning
from pushpools_tools.engine import ProgramRun, Registration, run_program
from pushpools_tools.plan import run_stack
from pushpools_tools.provider_mocks.aws import ACCOUNT_ID
from pushpools_tools.stackfile import load_stack, stack_file_path

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
    condition = grants["github-deploy-dev"]["roles/resourcemanager.projectIamAdmin"]
    assert condition["expression"] == (
        "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', [])"
        ".hasOnly(['roles/run.developer'])"
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
    iam_statement = next(s for s in policies["github-deploy-dev"] if s["Action"] == "iam:*")
    assert "*" not in iam_statement["Resource"]
    assert "arn:aws:iam::*:role/dev-*" in iam_statement["Resource"]
    assert not any("prod" in r for r in iam_statement["Resource"])


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


# ---------------------------------------------------------------------------------------
# Plan x grants: every resource the shipped stacks declare, against the deploy identity of
# its environment (the deploy workflow runs stack <name> in GitHub environment <name>).
# What each resource needs is written from the providers' documented API calls: the
# action on the ARN for AWS, the role on the project for GCP, the role on the
# subscription for Azure. A type with no rule here is a failure, never a pass.

SHIPPED_STACKS = ("dev", "prod")
READER_WRITER_GUIDS = re.compile(r"GuidEquals \{([^}]*)\}")
GUID_AT_END = re.compile(r"([0-9a-f-]{36})\W*$")


def _aws_needs(type_: str, i: dict, region: str) -> list[tuple[str, str]]:
    iam = f"arn:aws:iam::{ACCOUNT_ID}:"
    regional = {
        "ecs": f"arn:aws:ecs:{region}:{ACCOUNT_ID}:",
        "ecr": f"arn:aws:ecr:{region}:{ACCOUNT_ID}:",
        "logs": f"arn:aws:logs:{region}:{ACCOUNT_ID}:",
    }
    rules = {
        "aws:iam/role:Role": [("iam:CreateRole", f"{iam}role/{i.get('name')}")],
        "aws:iam/rolePolicy:RolePolicy": [("iam:PutRolePolicy", f"{iam}role/{i.get('role')}")],
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": [
            ("iam:AttachRolePolicy", f"{iam}role/{i.get('role')}")
        ],
        "aws:iam/user:User": [("iam:CreateUser", f"{iam}user/{i.get('name')}")],
        "aws:iam/accessKey:AccessKey": [("iam:CreateAccessKey", f"{iam}user/{i.get('user')}")],
        "aws:iam/policy:Policy": [("iam:CreatePolicy", f"{iam}policy/{i.get('name')}")],
        "aws:iam/userPolicyAttachment:UserPolicyAttachment": [
            ("iam:AttachUserPolicy", f"{iam}user/{i.get('user')}")
        ],
        "aws:cloudwatch/logGroup:LogGroup": [
            ("logs:CreateLogGroup", f"{regional['logs']}log-group:{i.get('name')}"),
            ("logs:PutRetentionPolicy", f"{regional['logs']}log-group:{i.get('name')}"),
        ],
        "aws:ecr/repository:Repository": [
            ("ecr:CreateRepository", f"{regional['ecr']}repository/{i.get('name')}")
        ],
        "aws:ecr/lifecyclePolicy:LifecyclePolicy": [
            ("ecr:PutLifecyclePolicy", f"{regional['ecr']}repository/{i.get('repository')}")
        ],
        "aws:ecs/cluster:Cluster": [
            ("ecs:CreateCluster", f"{regional['ecs']}cluster/{i.get('name')}")
        ],
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": [
            ("ecs:PutClusterCapacityProviders", f"{regional['ecs']}cluster/{i.get('clusterName')}")
        ],
        # EC2 IDs exist only after creation: EC2 grants cannot name them.
        "aws:ec2/vpc:Vpc": [("ec2:CreateVpc", "*")],
        "aws:ec2/internetGateway:InternetGateway": [("ec2:CreateInternetGateway", "*")],
        "aws:ec2/subnet:Subnet": [("ec2:CreateSubnet", "*")],
        "aws:ec2/securityGroup:SecurityGroup": [("ec2:CreateSecurityGroup", "*")],
        "aws:ec2/routeTable:RouteTable": [("ec2:CreateRouteTable", "*")],
        "aws:ec2/routeTableAssociation:RouteTableAssociation": [("ec2:AssociateRouteTable", "*")],
    }
    if type_ not in rules:
        raise KeyError(type_)
    return rules[type_]


def _aws_allows(policy: dict, action: str, arn: str) -> bool:
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or "Condition" in statement:
            continue
        actions = statement["Action"]
        resources = statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        # IAM: actions match case-insensitively, ARNs case-sensitively; `*` spans `/`.
        if any(fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatchcase(arn, r) for r in resources
        ):
            return True
    return False


GCP_ROLE_FOR = {
    "gcp:projects/service:Service": "roles/serviceusage.serviceUsageAdmin",
    "gcp:artifactregistry/repository:Repository": "roles/artifactregistry.admin",
    "gcp:serviceaccount/account:Account": "roles/iam.serviceAccountAdmin",
    # A binding on a service account is that account's IAM policy (setIamPolicy).
    "gcp:serviceaccount/iAMMember:IAMMember": "roles/iam.serviceAccountAdmin",
    "gcp:serviceaccount/key:Key": "roles/iam.serviceAccountKeyAdmin",
    "gcp:projects/iAMMember:IAMMember": "roles/resourcemanager.projectIamAdmin",
}
AZURE = AzureGithubIdentities
AZURE_ROLE_FOR = {
    "azure-native:resources:ResourceGroup": AZURE.CONTRIBUTOR,
    "azure-native:containerregistry:Registry": AZURE.CONTRIBUTOR,
    "azure-native:managedidentity:UserAssignedIdentity": AZURE.CONTRIBUTOR,
    "azure-native:authorization:RoleDefinition": "role-writer",
    "azure-native:authorization:RoleAssignment": AZURE.RBAC_ADMIN,
}
# No cloud grant: components, explicit providers, pushpools' own dynamic providers
# (Prefect, pauses), and app registrations in Entra ID, which the Graph permission
# Application.ReadWrite.OwnedBy covers (granted by an Entra administrator, docs/gitops.md).
NO_CLOUD_GRANT = ("pushpools:", "pulumi:providers:", "pulumi-python:dynamic", "azuread:")


@dataclass
class Grants:
    """What one environment's deploy identity holds, read from the ci/ program's run."""

    aws_policy: dict
    gcp: dict[tuple[str, str], str | None]  # (project, role) -> condition expression
    azure: dict[tuple[str, str], str | None]  # (subscription, role GUID | role-writer) -> cond


def _grants(ci: ProgramRun, env: str) -> Grants:
    policy = next(
        json.loads(inputs(r)["policy"])
        for r in ci.find("aws:iam/rolePolicy:RolePolicy")
        if inputs(r)["role"] == f"github-deploy-{env}"
    )
    gcp = {
        (i["project"], i["role"]): (i.get("condition") or {}).get("expression")
        for i in map(inputs, ci.find("gcp:projects/iAMMember:IAMMember"))
        if i["member"].startswith(f"serviceAccount:github-deploy-{env}@")
    }
    azure = {}
    for r in ci.find("azure-native:authorization:RoleAssignment"):
        if f"-deploy-{env}-" not in r.name:
            continue
        i = inputs(r)
        role = "role-writer" if "role-writer" in r.name else i["roleDefinitionId"].rsplit("/")[-1]
        azure[(i["scope"].split("/")[2], role)] = i.get("condition")
    return Grants(policy, gcp, azure)


def _subscription_of(resource: Registration, run: ProgramRun) -> str | None:
    for dependency in resource.dependencies:
        provider = next((r for r in run.resources if r.urn == dependency), None)
        if provider is not None and provider.type == "pulumi:providers:azure-native":
            return inputs(provider)["subscriptionId"]
    return None


def uncovered(run: ProgramRun, grants: Grants) -> list[str]:
    """Each resource of `run` the identity holding `grants` could not create, and why."""
    problems = []
    for r in run.resources:
        if r.type == "pulumi:pulumi:Stack" or r.type.startswith(NO_CLOUD_GRANT):
            continue
        i = inputs(r)
        where = f"{r.type} {r.name}"
        if r.type.startswith("aws:"):
            try:
                needs = _aws_needs(r.type, i, i.get("region", "us-east-1"))
            except KeyError:
                problems.append(f"{where}: no rule for this type (add one to this test)")
                continue
            problems += [
                f"{where}: {action} on {arn} is not allowed"
                for action, arn in needs
                if not _aws_allows(grants.aws_policy, action, arn)
            ]
        elif r.type.startswith("gcp:"):
            if r.type not in GCP_ROLE_FOR:
                problems.append(f"{where}: no rule for this type (add one to this test)")
                continue
            project = i.get("project") or i["serviceAccountId"].split("/")[1]
            role = GCP_ROLE_FOR[r.type]
            if (project, role) not in grants.gcp:
                problems.append(f"{where}: no {role} on project {project}")
            elif r.type == "gcp:projects/iAMMember:IAMMember":
                allowed = re.findall(
                    r"'([^']+)'", (grants.gcp[(project, role)] or "").split("[", 2)[-1]
                )
                if i["role"] not in allowed:
                    problems.append(f"{where}: may not grant {i['role']} on project {project}")
        elif r.type.startswith("azure-native:"):
            if r.type not in AZURE_ROLE_FOR:
                problems.append(f"{where}: no rule for this type (add one to this test)")
                continue
            subscription = _subscription_of(r, run) or "(none: no explicit provider)"
            role = AZURE_ROLE_FOR[r.type]
            if (subscription, role) not in grants.azure:
                problems.append(f"{where}: no role {role} on subscription {subscription}")
            elif role == AZURE.RBAC_ADMIN:
                condition = grants.azure[(subscription, role)] or ""
                assignable = {
                    g.strip()
                    for found in READER_WRITER_GUIDS.findall(condition)
                    for g in found.split(",")
                }
                assigned = GUID_AT_END.search(str(i["roleDefinitionId"]))
                if assigned is None or assigned.group(1) not in assignable:
                    problems.append(f"{where}: may not assign {i['roleDefinitionId']}")
        else:
            problems.append(f"{where}: no rule for this provider (add one to this test)")
    return problems


@pytest.fixture(scope="module")
def shipped() -> dict[str, ProgramRun]:
    runs = {}
    for stack in SHIPPED_STACKS:
        settings = load_stack(PROJECT_DIR, stack_file_path(PROJECT_DIR, stack), stack)
        runs[stack] = run_stack(PROJECT_DIR, settings)
    return runs


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_each_deploy_identity_can_create_everything_its_stack_declares(run, shipped, stack) -> None:
    clouds = {r.type.split(":")[0] for r in shipped[stack].resources}
    assert {"aws", "gcp", "azure-native"} <= clouds  # the check below is not vacuous
    assert uncovered(shipped[stack], _grants(run, stack)) == []


def test_an_identity_cannot_deploy_the_other_environment(run, shipped) -> None:
    problems = "\n".join(uncovered(shipped["prod"], _grants(run, "dev")))
    assert "no roles/iam.serviceAccountAdmin on project acme-data-prod" in problems
    assert "iam:CreateRole on arn:aws:iam::123456789012:role/prod-ecs-task-role" in problems
    assert "on subscription 0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b" in problems


def _mutated(run: ProgramRun, name: str, changes: dict[str, Any]) -> ProgramRun:
    resources = [
        replace(r, inputs={**r.inputs, **changes}) if r.name == name else r for r in run.resources
    ]
    assert resources != run.resources, name
    return replace(run, resources=resources)


@pytest.mark.parametrize(
    ("stack", "name", "changes", "expected"),
    [
        ("prod", "prod-ecs-task-role", {"name": "payments-task-role"}, "iam:CreateRole"),
        ("dev", "dev-ecs-cluster", {"name": "shared-cluster"}, "ecs:CreateCluster"),
        ("dev", "dev-ecs-logs", {"name": "/aws/lambda/billing"}, "logs:CreateLogGroup"),
        ("dev", "dev-ecs-images", {"name": "prod-ecs-flows"}, "ecr:CreateRepository"),
        ("dev", "dev-cloud-run-roles-run-developer", {"role": "roles/owner"}, "roles/owner"),
        ("prod", "prod-cloud-run-images", {"project": "acme-billing"}, "acme-billing"),
        (
            "dev",
            "dev-aci-acr-pull",
            {
                "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
            },
            "may not assign",
        ),
    ],
)
def test_a_resource_outside_the_grants_is_caught(
    run, shipped, stack, name, changes, expected
) -> None:
    problems = uncovered(_mutated(shipped[stack], name, changes), _grants(run, stack))
    assert problems, "the mutation went unnoticed"
    assert all(name in p for p in problems), problems
    assert expected in problems[0], problems


def test_a_type_with_no_rule_is_caught(run, shipped) -> None:
    first = next(r for r in shipped["dev"].resources if r.type == "aws:iam/user:User")
    novel = replace(first, type="aws:lambda/function:Function", name="dev-fn")
    run_with = replace(shipped["dev"], resources=[*shipped["dev"].resources, novel])
    assert uncovered(run_with, _grants(run, "dev")) == [
        "aws:lambda/function:Function dev-fn: no rule for this type (add one to this test)"
    ]


def test_azure_rbac_administrator_is_conditioned_to_the_pools_roles(run) -> None:
    assignments = {r.name: inputs(r) for r in run.find("azure-native:authorization:RoleAssignment")}
    rbac = [i for i in assignments.values() if i["roleDefinitionId"].endswith(AZURE.RBAC_ADMIN)]
    assert len(rbac) == 2  # one per deploy environment, none for preview
    for i in rbac:
        assert i["conditionVersion"] == "2.0"
        assert "8e3af657" not in i["condition"]  # Owner is never assignable
    prod = next(i for i in rbac if "0e9d8c7b" in i["scope"])
    assert prod["condition"] == only_assigning(
        [
            "7f951dda-4ed3-4680-a7ca-43fe172d538d",
            "25873cdf-2aba-565b-93ab-68904655c51c",
            "c7a68f12-e16b-5372-b12c-0be63d4d1ab3",
        ]
    )
    writer = inputs(
        run.one("azure-native:authorization:RoleDefinition", "github-azure-role-writer")
    )
    assert writer["permissions"][0]["actions"] == list(AZURE.ROLE_WRITER_ACTIONS)


def test_preview_reads_every_environments_projects_and_subscriptions(run) -> None:
    gcp = {
        i["project"]
        for i in map(inputs, run.find("gcp:projects/iAMMember:IAMMember"))
        if i["member"].startswith("serviceAccount:github-preview@") and i["role"] == "roles/viewer"
    }
    assert gcp == {"acme-ci", "acme-data-dev", "acme-data-prod"}
    azure = {
        inputs(r)["scope"]
        for r in run.find("azure-native:authorization:RoleAssignment")
        if "-preview-" in r.name
    }
    assert azure == {
        "/subscriptions/6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
        "/subscriptions/0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
    }


def test_a_ci_stack_made_before_per_environment_scopes_keeps_its_urns() -> None:
    """A config without deploy_projects/deploy_subscriptions declares the same grants
    under the same names as before (no replacement in existing ci/ state)."""
    before = _run(
        {
            "pushpools-ci:github": {"repository": REPO},
            "pushpools-ci:gcp": {"project": "acme-data-dev", "grantable_roles": ["r"]},
            "pushpools-ci:azure": {"subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b"},
        }
    )
    names = {r.name for r in before.resources}
    assert {
        "github-gcp-deploy-dev-roles-iam-serviceaccountadmin",
        "github-gcp-deploy-prod-grant-pool-roles",
        "github-gcp-preview-roles-viewer",
        "github-azure-deploy-dev-b24988ac",
        "github-azure-deploy-prod-f58310d9",
        "github-azure-preview-acdd72a7",
        "github-azure-azure-native",
    } <= names


@pytest.mark.parametrize(
    ("section", "value", "problem"),
    [
        (
            "pushpools-ci:aws",
            {"iam_name_patterns": ["*-prefect-*"]},
            "pushpools-ci:aws.iam_name_patterns: renamed to name_patterns",
        ),
        (
            "pushpools-ci:aws",
            {"name_patterns": {"dev": ["*"], "prod": ["prod-*"]}},
            "pushpools-ci:aws.name_patterns.dev: '*' matches the pipeline's own roles",
        ),
        (
            "pushpools-ci:azure",
            {"subscription_id": "s", "assignable_roles": ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"]},
            "pushpools-ci:azure.assignable_roles.dev: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' "
            "is Owner",
        ),
        (
            "pushpools-ci:gcp",
            {"project": "p", "deploy_projects": {"dev": ["p"], "staging": ["q"]}},
            "pushpools-ci:gcp.deploy_projects: 'staging' is not one of the environments",
        ),
        (
            "pushpools-ci:gcp",
            {"project": "p", "deploy_projects": {"dev": ["p"]}},
            "pushpools-ci:gcp.deploy_projects.prod: None; a non-empty list is required",
        ),
    ],
)
def test_bad_ci_config_is_refused_naming_the_key(section, value, problem) -> None:
    with pytest.raises(SystemExit) as refused:
        _run({"pushpools-ci:github": {"repository": REPO}, section: value})
    assert problem in str(refused.value)
