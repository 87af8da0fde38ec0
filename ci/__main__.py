"""The pipeline's identities, one component per cloud named in the stack config.

    pushpools-ci:github: {repository: acme/data-platform, default_branch: main,
                          environments: [dev, prod]}
    pushpools-ci:gcp:    {project: acme-data-dev, grantable_roles: [roles/run.developer, ...]}
    pushpools-ci:aws:    {iam_name_patterns: ["*-prefect-*", ...]}
    pushpools-ci:azure:  {subscription_id: ...}

Every section but `github` is optional; the outputs are the repository variables the
workflows read (docs/gitops.md, "Setting it up").
"""

import pulumi

from pushpools_tools.ci_identities import (
    AwsGithubIdentities,
    AzureGithubIdentities,
    GcpGithubIdentities,
    GithubTrust,
)

config = pulumi.Config("pushpools-ci")
github = config.require_object("github")
trust = GithubTrust(
    repository=str(github.get("repository", "")),
    default_branch=str(github.get("default_branch", "main")),
    environments=tuple(github.get("environments", ("dev", "prod"))),
)
problems = trust.problems("pushpools-ci:github")
gcp, aws, azure = (config.get_object(k) for k in ("gcp", "aws", "azure"))
if gcp is not None and not gcp.get("project"):
    problems.append("pushpools-ci:gcp.project: required (the project the pools live in)")
if azure is not None and not azure.get("subscription_id"):
    problems.append("pushpools-ci:azure.subscription_id: required")
if problems:
    raise SystemExit("invalid stack configuration:\n  - " + "\n  - ".join(problems))

if gcp is not None:
    identities = GcpGithubIdentities(
        "github-gcp", trust, gcp["project"], list(gcp.get("grantable_roles", []))
    )
    pulumi.export("GCP_WORKLOAD_IDENTITY_PROVIDER", identities.workload_identity_provider)
    pulumi.export("GCP_PREVIEW_SERVICE_ACCOUNT", identities.service_accounts["preview"])
    pulumi.export(
        "GCP_DEPLOY_SERVICE_ACCOUNT",
        {env: identities.service_accounts[f"deploy-{env}"] for env in trust.environments},
    )
if aws is not None:
    roles = AwsGithubIdentities(
        "github-aws", trust, list(aws.get("iam_name_patterns", ["*prefect*"]))
    )
    pulumi.export("AWS_PREVIEW_ROLE_ARN", roles.role_arns["preview"])
    pulumi.export(
        "AWS_DEPLOY_ROLE_ARN",
        {env: roles.role_arns[f"deploy-{env}"] for env in trust.environments},
    )
if azure is not None:
    apps = AzureGithubIdentities("github-azure", trust, azure["subscription_id"])
    pulumi.export("AZURE_PREVIEW_CLIENT_ID", apps.client_ids["preview"])
    pulumi.export(
        "AZURE_DEPLOY_CLIENT_ID",
        {env: apps.client_ids[f"deploy-{env}"] for env in trust.environments},
    )
