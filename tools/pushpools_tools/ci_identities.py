"""The GitOps pipeline's own identities: GitHub's OIDC tokens trusted by each cloud.

Two kinds of identity per cloud, each trusting only one repository and one kind of run
(the `sub` claim GitHub puts in its token):

- **preview**: pull requests (`repo:<owner>/<repo>:pull_request`) and the nightly drift
  check on the default branch (`repo:<owner>/<repo>:ref:refs/heads/<branch>`); read-only.
- **deploy**, one per GitHub environment (`repo:<owner>/<repo>:environment:<env>`): what
  `pulumi up` needs to create the pools' resources, and no more than the clouds allow
  narrowing it to (see each class). A job gets the deploy identity of an environment only
  after that environment's protection rules (required reviewers for prod) let it run.

GitHub documents the claims at docs.github.com, "About security hardening with OpenID
Connect"; the issuer is https://token.actions.githubusercontent.com.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pulumi

from pushpools.components.aws.web_identity import web_identity_trust_policy

ISSUER = "https://token.actions.githubusercontent.com"
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


@dataclass(frozen=True)
class GithubTrust:
    repository: str
    """`owner/name` of the repository whose workflows may use the identities."""
    default_branch: str = "main"
    environments: tuple[str, ...] = ("dev", "prod")

    def problems(self, key: str) -> list[str]:
        found = []
        if not _REPOSITORY.match(self.repository):
            found.append(f"{key}.repository: {self.repository!r} is not owner/name")
        for env in self.environments:
            if not _ENVIRONMENT.match(env):
                found.append(f"{key}.environments: {env!r} is not a GitHub environment name")
        if not self.environments:
            found.append(f"{key}.environments: at least one environment is needed to deploy")
        return found

    @property
    def preview_subjects(self) -> list[str]:
        return [
            f"repo:{self.repository}:pull_request",
            f"repo:{self.repository}:ref:refs/heads/{self.default_branch}",
        ]

    def deploy_subject(self, environment: str) -> str:
        return f"repo:{self.repository}:environment:{environment}"


def _child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


class GcpGithubIdentities(pulumi.ComponentResource):
    """A workload identity pool and provider for GitHub, a preview service account and
    one deploy service account per environment, each impersonable by its subjects only."""

    # Read-only: every resource pushpools creates, and the IAM policies on them.
    PREVIEW_ROLES = ("roles/viewer", "roles/iam.securityReviewer")
    # What `pulumi up` of a Cloud Run pool does: enable APIs, create the registry, service
    # accounts and a key, and grant the pools' roles (see `grantable_roles`).
    DEPLOY_ROLES = (
        "roles/serviceusage.serviceUsageAdmin",
        "roles/artifactregistry.admin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountKeyAdmin",
    )

    def __init__(
        self,
        name: str,
        trust: GithubTrust,
        project: str,
        grantable_roles: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        from pulumi_gcp import iam, projects, serviceaccount

        super().__init__("pushpools:ci:GcpGithubIdentities", name, {}, opts)
        pool = iam.WorkloadIdentityPool(
            f"{name}-pool", project=project, workload_identity_pool_id="github", opts=_child(self)
        )
        provider = iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            project=project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github-actions",
            oidc=iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=ISSUER),
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
            },
            # Tokens of any other repository are refused before any binding is consulted.
            attribute_condition=f"assertion.repository == '{trust.repository}'",
            opts=_child(self),
        )
        identities = {"preview": trust.preview_subjects} | {
            f"deploy-{env}": [trust.deploy_subject(env)] for env in trust.environments
        }
        self.service_accounts: dict[str, pulumi.Output[str]] = {}
        for identity, subjects in identities.items():
            account = serviceaccount.Account(
                f"{name}-{identity}",
                project=project,
                account_id=f"github-{identity}"[:30],
                display_name=f"GitHub Actions {identity} of {trust.repository}",
                opts=_child(self),
            )
            for subject in subjects:
                serviceaccount.IAMMember(
                    f"{name}-{identity}-{_slug(subject)}",
                    service_account_id=account.name,
                    role="roles/iam.workloadIdentityUser",
                    member=pool.name.apply(lambda pool_name, s=subject: _principal(pool_name, s)),
                    opts=_child(self),
                )
            roles = self.PREVIEW_ROLES if identity == "preview" else self.DEPLOY_ROLES
            for role in roles:
                projects.IAMMember(
                    f"{name}-{identity}-{_slug(role)}",
                    project=project,
                    role=role,
                    member=account.member,
                    opts=_child(self),
                )
            if identity != "preview":
                # Granting roles on the project is the broad power deploying needs; the
                # condition limits it to the roles the pools grant, nothing else.
                projects.IAMMember(
                    f"{name}-{identity}-grant-pool-roles",
                    project=project,
                    role="roles/resourcemanager.projectIamAdmin",
                    member=account.member,
                    condition=projects.IAMMemberConditionArgs(
                        title="only the roles pushpools grants",
                        expression=_only_roles(grantable_roles),
                    ),
                    opts=_child(self),
                )
            self.service_accounts[identity] = account.email
        self.workload_identity_provider = provider.name
        self.register_outputs(
            {
                "workload_identity_provider": provider.name,
                "service_accounts": self.service_accounts,
            }
        )


def _principal(pool_name: str, subject: str) -> str:
    return f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"


def _only_roles(roles: list[str]) -> str:
    listed = ", ".join(f"'{r}'" for r in sorted(roles))
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{listed}])"


class AwsGithubIdentities(pulumi.ComponentResource):
    """The account's OIDC provider for GitHub, a preview role and a deploy role per
    environment, each assumable by its subjects' tokens only (audience pinned)."""

    # Read-only on the services a pool uses.
    PREVIEW_ACTIONS = (
        "iam:Get*",
        "iam:List*",
        "ecs:Describe*",
        "ecs:List*",
        "ecr:Describe*",
        "ecr:GetLifecyclePolicy",
        "ecr:ListTagsForResource",
        "ec2:Describe*",
        "logs:Describe*",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
    )
    # Creating an ECS pool: its IAM user, roles and policies, cluster, registry, logs and
    # (optionally) its VPC. IAM is limited to the pool-named users, roles and policies.
    DEPLOY_ACTIONS = ("ecs:*", "ecr:*", "logs:*", "ec2:*")
    DEPLOY_IAM_ACTIONS = ("iam:*",)

    def __init__(
        self,
        name: str,
        trust: GithubTrust,
        iam_name_patterns: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        from pulumi_aws import iam

        super().__init__("pushpools:ci:AwsGithubIdentities", name, {}, opts)
        provider = iam.OpenIdConnectProvider(
            f"{name}-github",
            url=ISSUER,
            client_id_lists=["sts.amazonaws.com"],
            opts=_child(self),
        )
        identities = {"preview": trust.preview_subjects} | {
            f"deploy-{env}": [trust.deploy_subject(env)] for env in trust.environments
        }
        self.role_arns: dict[str, pulumi.Output[str]] = {}
        for identity, subjects in identities.items():
            role = iam.Role(
                f"{name}-{identity}",
                name=f"github-{identity}",
                assume_role_policy=provider.arn.apply(lambda arn, s=subjects: _trust(arn, s)),
                max_session_duration=3600,
                opts=_child(self),
            )
            iam.RolePolicy(
                f"{name}-{identity}-policy",
                name=f"github-{identity}",
                role=role.name,
                policy=_permissions(identity == "preview", iam_name_patterns),
                opts=_child(self),
            )
            self.role_arns[identity] = role.arn
        self.register_outputs({"role_arns": self.role_arns})


def _trust(provider_arn: str, subjects: list[str]) -> str:
    policy = web_identity_trust_policy(provider_arn, ISSUER, "sts.amazonaws.com", subjects)
    return json.dumps(policy, sort_keys=True)


def _permissions(preview: bool, iam_name_patterns: list[str]) -> str:
    if preview:
        statements = [
            {
                "Effect": "Allow",
                "Action": list(AwsGithubIdentities.PREVIEW_ACTIONS),
                "Resource": "*",
            }
        ]
    else:
        iam_resources = [
            f"arn:aws:iam::*:{kind}/{pattern}"
            for pattern in iam_name_patterns
            for kind in ("user", "role", "policy")
        ]
        statements = [
            {
                "Effect": "Allow",
                "Action": list(AwsGithubIdentities.DEPLOY_ACTIONS),
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": list(AwsGithubIdentities.DEPLOY_IAM_ACTIONS),
                "Resource": iam_resources,
            },
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class AzureGithubIdentities(pulumi.ComponentResource):
    """An Entra application per identity with a federated credential per subject (no
    client secret exists), and its role on the subscription: Reader for preview; for
    deploy, Contributor and the right to assign the pools' roles."""

    READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
    # "Role Based Access Control Administrator": assigns roles, cannot change anything else.
    RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"

    def __init__(
        self,
        name: str,
        trust: GithubTrust,
        subscription_id: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        import pulumi_azuread as azuread
        from pulumi_azure_native import Provider, authorization

        super().__init__("pushpools:ci:AzureGithubIdentities", name, {}, opts)
        scope = f"/subscriptions/{subscription_id}"
        # Explicit, so the assignments never land in whatever the login's default is.
        in_subscription = pulumi.ResourceOptions(
            parent=self,
            provider=Provider(
                f"{name}-azure-native", subscription_id=subscription_id, opts=_child(self)
            ),
        )
        identities = {"preview": trust.preview_subjects} | {
            f"deploy-{env}": [trust.deploy_subject(env)] for env in trust.environments
        }
        self.client_ids: dict[str, pulumi.Output[str]] = {}
        for identity, subjects in identities.items():
            app = azuread.Application(
                f"{name}-{identity}",
                display_name=f"github-{identity} ({trust.repository})",
                opts=_child(self),
            )
            principal = azuread.ServicePrincipal(
                f"{name}-{identity}-sp", client_id=app.client_id, opts=_child(self)
            )
            for subject in subjects:
                azuread.ApplicationFederatedIdentityCredential(
                    f"{name}-{identity}-{_slug(subject)}",
                    application_id=app.id,
                    display_name=_slug(subject)[:120],
                    issuer=ISSUER,
                    subject=subject,
                    audiences=["api://AzureADTokenExchange"],
                    opts=_child(self),
                )
            roles = [self.READER] if identity == "preview" else [self.CONTRIBUTOR, self.RBAC_ADMIN]
            for role in roles:
                authorization.RoleAssignment(
                    f"{name}-{identity}-{role[:8]}",
                    scope=scope,
                    principal_id=principal.object_id,
                    principal_type="ServicePrincipal",
                    # A name derived from what it grants: the same on every run.
                    role_assignment_name=str(
                        uuid.uuid5(
                            uuid.NAMESPACE_URL, f"{scope}/{trust.repository}/{identity}/{role}"
                        )
                    ),
                    role_definition_id=(
                        f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"
                    ),
                    opts=in_subscription,
                )
            self.client_ids[identity] = app.client_id
        self.register_outputs({"client_ids": self.client_ids})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
