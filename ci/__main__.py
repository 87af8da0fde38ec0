"""The pipeline's identities, one component per cloud named in the stack config.

    pushpools-ci:github: {repository: acme/data-platform, default_branch: main,
                          environments: [dev, prod]}
    pushpools-ci:gcp:    {project: acme-ci, grantable_roles: {dev: [roles/run.developer]},
                          deploy_projects: {dev: [acme-data-dev], prod: [acme-data-prod]}}
    pushpools-ci:aws:    {name_patterns: {dev: ["dev-*"], prod: ["prod-*"]}}
    pushpools-ci:azure:  {subscription_id: ..., deploy_subscriptions: {dev: [...], ...},
                          assignable_roles: {dev: [<role GUID>, ...], ...}}

Every section but `github` is optional; a per-environment setting is a mapping
`environment: [...]`, or one list for every environment. The outputs are the repository
variables the workflows read (docs/gitops.md, "Setting it up").
"""

from fnmatch import fnmatchcase

import pulumi

from pushpools_tools.ci_identities import (
    AwsGithubIdentities,
    AzureGithubIdentities,
    GcpGithubIdentities,
    GithubTrust,
    per_environment,
)

config = pulumi.Config("pushpools-ci")
github = config.require_object("github")
trust = GithubTrust(
    repository=str(github.get("repository", "")),
    default_branch=str(github.get("default_branch", "main")),
    environments=tuple(github.get("environments", ("dev", "prod"))),
)
problems = trust.problems("pushpools-ci:github")
envs = trust.environments
gcp, aws, azure = (config.get_object(k) for k in ("gcp", "aws", "azure"))
deploy_projects = grantable_roles = name_patterns = {}
deploy_subscriptions = assignable_roles = {}

if gcp is not None:
    if not gcp.get("project"):
        problems.append("pushpools-ci:gcp.project: required (the project the identities live in)")
    deploy_projects = per_environment(
        gcp.get("deploy_projects", [gcp.get("project", "")]),
        envs,
        "pushpools-ci:gcp.deploy_projects",
        problems,
    )
    grantable_roles = per_environment(
        gcp.get("grantable_roles", []), envs, "pushpools-ci:gcp.grantable_roles", problems
    )
if aws is not None:
    if "iam_name_patterns" in aws:
        problems.append(
            "pushpools-ci:aws.iam_name_patterns: renamed to name_patterns (they now also limit "
            "clusters, repositories and log groups), e.g. name_patterns: {dev: ['dev-*']}"
        )
    name_patterns = per_environment(
        aws.get("name_patterns", {env: [f"{env}-*"] for env in envs}),
        envs,
        "pushpools-ci:aws.name_patterns",
        problems,
    )
    for env, patterns in name_patterns.items():
        for pattern in patterns:
            # A pattern that reaches the pipeline's own roles would let a deploy role
            # rewrite its own policy.
            if any(fnmatchcase(f"github-{i}", pattern) for i in ("preview", f"deploy-{env}")):
                problems.append(
                    f"pushpools-ci:aws.name_patterns.{env}: {pattern!r} matches the pipeline's "
                    "own roles (github-*); name the pools' resources only, e.g. 'dev-*'"
                )
if azure is not None:
    if not azure.get("subscription_id"):
        problems.append("pushpools-ci:azure.subscription_id: required")
    deploy_subscriptions = per_environment(
        azure.get("deploy_subscriptions", [azure.get("subscription_id", "")]),
        envs,
        "pushpools-ci:azure.deploy_subscriptions",
        problems,
    )
    assignable_roles = per_environment(
        azure.get("assignable_roles", [AzureGithubIdentities.ACR_PULL]),
        envs,
        "pushpools-ci:azure.assignable_roles",
        problems,
    )
    privileged = {
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
        AzureGithubIdentities.RBAC_ADMIN: "Role Based Access Control Administrator",
    }
    for env, roles in assignable_roles.items():
        for role in roles:
            if role.lower() in privileged:
                problems.append(
                    f"pushpools-ci:azure.assignable_roles.{env}: {role!r} is "
                    f"{privileged[role.lower()]}; only the roles the pools grant are allowed"
                )
if problems:
    raise SystemExit("invalid stack configuration:\n  - " + "\n  - ".join(problems))

if gcp is not None:
    identities = GcpGithubIdentities(
        "github-gcp",
        trust,
        gcp["project"],
        grantable_roles,
        deploy_projects,
    )
    pulumi.export("GCP_WORKLOAD_IDENTITY_PROVIDER", identities.workload_identity_provider)
    pulumi.export("GCP_PREVIEW_SERVICE_ACCOUNT", identities.service_accounts["preview"])
    pulumi.export(
        "GCP_DEPLOY_SERVICE_ACCOUNT",
        {env: identities.service_accounts[f"deploy-{env}"] for env in envs},
    )
if aws is not None:
    roles = AwsGithubIdentities("github-aws", trust, name_patterns)
    pulumi.export("AWS_PREVIEW_ROLE_ARN", roles.role_arns["preview"])
    pulumi.export("AWS_DEPLOY_ROLE_ARN", {env: roles.role_arns[f"deploy-{env}"] for env in envs})
if azure is not None:
    apps = AzureGithubIdentities(
        "github-azure", trust, azure["subscription_id"], deploy_subscriptions, assignable_roles
    )
    pulumi.export("AZURE_PREVIEW_CLIENT_ID", apps.client_ids["preview"])
    pulumi.export("AZURE_DEPLOY_CLIENT_ID", {env: apps.client_ids[f"deploy-{env}"] for env in envs})
