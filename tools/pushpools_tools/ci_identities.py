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
from typing import ClassVar

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


def per_environment(
    value: object, environments: tuple[str, ...], key: str, problems: list[str]
) -> dict[str, list[str]]:
    """A setting given once for every environment (a list) or per environment (a mapping
    `env: [...]`), as a list per environment; a problem naming `key` otherwise."""
    if isinstance(value, list):
        return {env: [str(v) for v in value] for env in environments}
    if isinstance(value, dict):
        for env in value:
            if env not in environments:
                problems.append(
                    f"{key}: {env!r} is not one of the environments {list(environments)}"
                )
        found = {}
        for env in environments:
            listed = value.get(env)
            if not isinstance(listed, list) or not listed:
                problems.append(f"{key}.{env}: {listed!r}; a non-empty list is required")
                listed = []
            found[env] = [str(v) for v in listed]
        return found
    problems.append(f"{key}: {value!r}; a list, or a mapping of environment to list, is required")
    return {env: [] for env in environments}


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
        grantable_roles: dict[str, list[str]],
        deploy_projects: dict[str, list[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`project` holds the workload identity pool and the service accounts;
        `deploy_projects[env]` are the projects env's stacks deploy into (default: `project`
        for every environment), `grantable_roles[env]` the project roles env's pools grant
        (the only ones its deploy account may grant). The preview account reads them all."""
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
        projects_of = deploy_projects or {env: [project] for env in trust.environments}
        all_projects = sorted({project, *(p for ps in projects_of.values() for p in ps)})
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
            if identity == "preview":
                scopes, roles = all_projects, self.PREVIEW_ROLES
            else:
                scopes, roles = projects_of[identity.removeprefix("deploy-")], self.DEPLOY_ROLES
            for target in scopes:
                # The home project's grants keep their first names (their URNs in the
                # state of stacks made before deploy projects existed).
                prefix = f"{name}-{identity}" + ("" if target == project else f"-{target}")
                for role in roles:
                    projects.IAMMember(
                        f"{prefix}-{_slug(role)}",
                        project=target,
                        role=role,
                        member=account.member,
                        opts=_child(self),
                    )
                if identity != "preview":
                    # Granting roles on the project is the broad power deploying needs;
                    # the condition limits it to the roles the pools grant, nothing else.
                    projects.IAMMember(
                        f"{prefix}-grant-pool-roles",
                        project=target,
                        role="roles/resourcemanager.projectIamAdmin",
                        member=account.member,
                        condition=projects.IAMMemberConditionArgs(
                            title="only the roles pushpools grants",
                            expression=_only_roles(grantable_roles[identity[7:]]),
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
    # Creating an ECS pool: its IAM user, roles and policies, cluster, registry and log
    # group, each limited to the names an environment's pools use (`name_patterns`), and
    # its VPC (EC2 IDs are not known before creation, so EC2 is not narrowed by name).
    DEPLOY_NAMED: ClassVar[dict[str, tuple[str, ...]]] = {
        "iam": ("user/{}", "role/{}", "policy/{}"),
        "ecs": ("cluster/{}",),
        "ecr": ("repository/{}",),
        # Log group names of ECS pools start with /ecs/ (e.g. /ecs/dev-ecs-cluster).
        "logs": ("log-group:{}", "log-group:{}:*", "log-group:/ecs/{}", "log-group:/ecs/{}:*"),
    }
    DEPLOY_ANYWHERE = ("ec2:*", "logs:DescribeLogGroups")

    def __init__(
        self,
        name: str,
        trust: GithubTrust,
        name_patterns: dict[str, list[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`name_patterns[env]`: the names (IAM-style wildcards) env's deploy role may
        create and change IAM users, roles, policies, clusters, repositories and log
        groups under, e.g. `dev-*`."""
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
            env = identity.removeprefix("deploy-")
            iam.RolePolicy(
                f"{name}-{identity}-policy",
                name=f"github-{identity}",
                role=role.name,
                policy=deploy_policy(name_patterns[env])
                if identity != "preview"
                else preview_policy(),
                opts=_child(self),
            )
            self.role_arns[identity] = role.arn
        self.register_outputs({"role_arns": self.role_arns})


def _trust(provider_arn: str, subjects: list[str]) -> str:
    policy = web_identity_trust_policy(provider_arn, ISSUER, "sts.amazonaws.com", subjects)
    return json.dumps(policy, sort_keys=True)


def _document(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def preview_policy() -> str:
    return _document(
        [{"Effect": "Allow", "Action": list(AwsGithubIdentities.PREVIEW_ACTIONS), "Resource": "*"}]
    )


def deploy_policy(name_patterns: list[str]) -> str:
    """Read everywhere (as preview), create and change only under `name_patterns`."""
    statements: list[dict] = [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": list(AwsGithubIdentities.PREVIEW_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "Network",
            "Effect": "Allow",
            "Action": list(AwsGithubIdentities.DEPLOY_ANYWHERE),
            "Resource": "*",
        },
    ]
    for service, resources in AwsGithubIdentities.DEPLOY_NAMED.items():
        # IAM is global (no region); the others live in any region the stacks name.
        region = "" if service == "iam" else "*"
        statements.append(
            {
                "Sid": f"{service.capitalize()}UnderThePoolsNames",
                "Effect": "Allow",
                "Action": f"{service}:*",
                "Resource": [
                    f"arn:aws:{service}:{region}:*:{form.format(pattern)}"
                    for pattern in name_patterns
                    for form in resources
                ],
            }
        )
    # A fresh account may lack ECS's service-linked role, which the cluster's capacity
    # providers need: the deploy role may create that one role and no other.
    statements.append(
        {
            "Sid": "EcsServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": (
                "arn:aws:iam::*:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
            ),
            "Condition": {"StringEquals": {"iam:AWSServiceName": "ecs.amazonaws.com"}},
        }
    )
    return _document(statements)


class AzureGithubIdentities(pulumi.ComponentResource):
    """An Entra application per identity with a federated credential per subject (no
    client secret exists), and its roles: Reader for preview on every subscription the
    stacks use; for deploy, on its environment's subscriptions only, Contributor, the
    right to write the pools' custom roles, and the right to assign only the roles its
    pools grant (a condition on Role Based Access Control Administrator)."""

    READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
    ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    # "Role Based Access Control Administrator": assigns roles, cannot change anything else.
    RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
    # `role: least-privilege` pools define a custom role; no built-in role below Owner and
    # User Access Administrator may write role definitions, so a custom one does.
    ROLE_WRITER_ACTIONS = (
        "Microsoft.Authorization/roleDefinitions/read",
        "Microsoft.Authorization/roleDefinitions/write",
        "Microsoft.Authorization/roleDefinitions/delete",
    )

    def __init__(
        self,
        name: str,
        trust: GithubTrust,
        subscription_id: str,
        deploy_subscriptions: dict[str, list[str]] | None = None,
        assignable_roles: dict[str, list[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`deploy_subscriptions[env]`: the subscriptions env's stacks deploy into (default
        `subscription_id`); `assignable_roles[env]`: the role definition GUIDs env's
        deploy identity may assign (default AcrPull: add Contributor for `role:
        contributor` pools and each `role: least-privilege` pool's custom role GUID, which
        `./dev plan` shows)."""
        import pulumi_azuread as azuread
        from pulumi_azure_native import Provider, authorization

        super().__init__("pushpools:ci:AzureGithubIdentities", name, {}, opts)
        subscriptions_of = deploy_subscriptions or {
            env: [subscription_id] for env in trust.environments
        }
        roles_of = assignable_roles or {env: [self.ACR_PULL] for env in trust.environments}
        every = sorted({subscription_id, *(s for ss in subscriptions_of.values() for s in ss)})

        def suffix(subscription: str) -> str:
            # The first subscription's resources keep their first names (URNs in state).
            return "" if subscription == subscription_id else f"-{subscription[:8]}"

        # Explicit providers, so the assignments never land in the login's default.
        in_subscription = {
            sub: pulumi.ResourceOptions(
                parent=self,
                provider=Provider(
                    f"{name}-azure-native{suffix(sub)}", subscription_id=sub, opts=_child(self)
                ),
            )
            for sub in every
        }
        deploying = sorted({s for ss in subscriptions_of.values() for s in ss})
        role_writer = {
            sub: authorization.RoleDefinition(
                f"{name}-role-writer{suffix(sub)}",
                role_definition_id=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"/subscriptions/{sub}/pushpools-role-writer")
                ),
                role_name=f"pushpools role definition writer ({trust.repository})",
                description="Writes the custom roles of pushpools' least-privilege ACI pools",
                role_type="CustomRole",
                scope=f"/subscriptions/{sub}",
                assignable_scopes=[f"/subscriptions/{sub}"],
                permissions=[{"actions": list(self.ROLE_WRITER_ACTIONS), "not_actions": []}],
                opts=in_subscription[sub],
            )
            for sub in deploying
        }
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
            env = identity.removeprefix("deploy-")
            if identity == "preview":
                grants = [(sub, self.READER, None) for sub in every]
            else:
                condition = only_assigning(roles_of[env])
                grants = [
                    (sub, role, condition if role == self.RBAC_ADMIN else None)
                    for sub in subscriptions_of[env]
                    for role in (self.CONTRIBUTOR, self.RBAC_ADMIN)
                ]
            for sub, role, condition in grants:
                scope = f"/subscriptions/{sub}"
                authorization.RoleAssignment(
                    f"{name}-{identity}-{role[:8]}{suffix(sub)}",
                    scope=scope,
                    principal_id=principal.object_id,
                    principal_type="ServicePrincipal",
                    # A name derived from what it grants: the same on every run.
                    role_assignment_name=_assignment_name(scope, trust.repository, identity, role),
                    role_definition_id=(
                        f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"
                    ),
                    condition=condition,
                    condition_version="2.0" if condition else None,
                    opts=in_subscription[sub],
                )
            if identity != "preview":
                for sub in subscriptions_of[env]:
                    scope = f"/subscriptions/{sub}"
                    authorization.RoleAssignment(
                        f"{name}-{identity}-role-writer{suffix(sub)}",
                        scope=scope,
                        principal_id=principal.object_id,
                        principal_type="ServicePrincipal",
                        role_assignment_name=_assignment_name(
                            scope, trust.repository, identity, "role-writer"
                        ),
                        role_definition_id=role_writer[sub].id,
                        opts=in_subscription[sub],
                    )
            self.client_ids[identity] = app.client_id
        self.register_outputs({"client_ids": self.client_ids})


def _assignment_name(scope: str, repository: str, identity: str, role: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}/{repository}/{identity}/{role}"))


def only_assigning(role_ids: list[str]) -> str:
    """An Azure ABAC condition (version 2.0) on Role Based Access Control Administrator:
    role assignments may be added and removed only for these role definitions, so the
    identity can never assign Owner (or any other role) to itself or anyone. The syntax is
    Azure's "Constrain roles" example (learn.microsoft.com, "Examples to delegate Azure
    role assignment management with conditions")."""
    listed = ", ".join(sorted({r.lower() for r in role_ids}))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{listed}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{listed}}}))"
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
