"""Azure Container Instances: what an `azure-container-instance:push` (or worker) pool needs.

Everything Prefect's `--provision-infra` helper creates, declaratively, and what it misses:
an explicit subscription (the helper takes the login's first), a client secret that
expires when the config says and rotates, an opt-in least-privilege role instead of
Contributor, a registry name that is stable across runs, and tags.

The resource providers (Microsoft.ContainerInstance, Microsoft.ContainerRegistry,
Microsoft.ManagedIdentity) must be registered in the subscription once; azure-native
cannot do it (registration is a POST, and it manages PUT resources only), so the README
documents the `az provider register` step.
"""

import hashlib
import uuid
from typing import Any, NotRequired, TypedDict

import pulumi

# Unlike azure-native, the azuread package loads all of itself on any import (~1.4 s).
import pulumi_azuread as azuread
from pulumi_azure_native import (
    Provider,
    authorization,
    containerregistry,
    managedidentity,
    resources,
)

from pushpools.components.azure.network import (
    JOIN_SUBNET_ACTIONS,
    AciNetworkArgs,
    declare_subnet,
)
from pushpools.components.azure.settings import AciRole, AciSettings
from pushpools.components.config import Cloud, PoolType
from pushpools.components.naming import Naming
from pushpools.components.pause import Pause
from pushpools.components.pool_component import PoolComponent
from pushpools.components.rotation import Rotation
from pushpools.components.tagging import resource_labels

# Registered once per subscription with `az provider register` (see the module docstring).
REQUIRED_RESOURCE_PROVIDERS = (
    "Microsoft.ContainerInstance",
    "Microsoft.ContainerRegistry",
    "Microsoft.ManagedIdentity",
)
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

# What the ACI worker (prefect-azure 0.4.13, `prefect_azure/workers/container_instance.py`,
# which Prefect Cloud's push runner runs) does with the app's credentials, in the pool's
# resource group, and nothing more. Checked against the worker's own calls in
# tests/test_aci_worker_permissions.py.
LEAST_PRIVILEGE_ACTIONS = (
    # `resource_client.deployments.begin_create_or_update` and its poller (write, status,
    # read): each run is an ARM deployment. Microsoft documents that deploying a template
    # needs "all operations on the Microsoft.Resources/deployments resource type".
    "Microsoft.Resources/deployments/*",
    # The deployment's template creates the run's container group: ARM checks the caller's
    # write on every resource it deploys.
    "Microsoft.ContainerInstance/containerGroups/write",
    # `aci_client.container_groups.get`: watching the run (`_get_container_group`).
    "Microsoft.ContainerInstance/containerGroups/read",
    # `aci_client.containers.list_logs`: `stream_output` (`_get_logs`).
    "Microsoft.ContainerInstance/containerGroups/containers/logs/read",
    # `aci_client.container_groups.stop`: `keep_container_group`, and cancelling a run
    # (`kill_infrastructure`).
    "Microsoft.ContainerInstance/containerGroups/stop/action",
    # `aci_client.container_groups.begin_delete`: every run ends by deleting its group.
    "Microsoft.ContainerInstance/containerGroups/delete",
)
# The template runs the group as the pool's identity (`identities`, and the registry
# login's `image_registry.identity`): ARM checks that the caller may assign that identity.
# Granted on the pool's own identity only, by a second assignment: never on the group,
# where it would cover every identity in it.
ASSIGN_IDENTITY_ACTIONS = ("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",)

# Names that must be GUIDs are derived from what they are for, so reruns never churn.
_PUSHPOOLS_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pushpools.invalid/azure")

# How long a new custom role definition gets to replicate before it is assigned; Azure
# usually needs seconds, occasionally more (see components/pause.py).
ROLE_REPLICATION_SECONDS = 60


class AciNamesArgs(TypedDict):
    """Physical names (`names` of the `azure` section)."""

    resource_group: NotRequired[str]
    app_registration: NotRequired[str]
    identity: NotRequired[str]
    registry: NotRequired[str]


class AciPushPoolArgs(TypedDict):
    """The `azure` section of an Azure Container Instances pool in the stack config, with the
    same keys (each described by `AciSettings`; `client_secret_expires_on` as YYYY-MM-DD;
    one of it and `client_secret_rotation_days`), and the pool-level `type`, `naming`,
    `credentials_block_name` and `labels`."""

    subscription_id: str
    client_secret_rotation_days: NotRequired[int]
    client_secret_grace_days: NotRequired[int]
    client_secret_expires_on: NotRequired[str]
    location: NotRequired[str]
    existing_resource_group: NotRequired[str]
    names: NotRequired[AciNamesArgs]
    secret_generation: NotRequired[int]
    delete_images_on_destroy: NotRequired[bool]
    role: NotRequired[AciRole]
    app_owners: NotRequired[list[str]]
    network: NotRequired[AciNetworkArgs]
    type: NotRequired[PoolType]
    naming: NotRequired[Naming]
    credentials_block_name: NotRequired[str]
    labels: NotRequired[dict[str, str]]


class AciPushPool(PoolComponent):
    """The Azure side of one Azure Container Instances work pool: an app registration
    Prefect signs in as (its secret in the credentials block), its role on the resource
    group, a registry and the identity container groups pull images with."""

    application_client_id: pulumi.Output[str]
    """Client ID of the app registration Prefect signs in as."""
    service_principal_object_id: pulumi.Output[str]
    """Object ID of the app's service principal (the one granted the role)."""
    pull_identity_id: pulumi.Output[str]
    """Resource ID of the managed identity container groups pull flow images with."""
    resource_group_name: pulumi.Output[str]
    """The resource group the flow runs run in."""

    RESOURCE_TYPE = "pushpools:azure:AciPushPool"
    CLOUD = Cloud.AZURE

    def __init__(
        self,
        name: str,
        args: AciPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        name = self.pool_name
        azure = self._cloud_settings(AciSettings)
        tags = resource_labels(self._labels, name)
        child = pulumi.ResourceOptions(parent=self)

        self.provider = Provider(
            f"{name}-azure-native",
            subscription_id=azure.subscription_id,
            location=azure.location,
            opts=child,
        )
        in_subscription = pulumi.ResourceOptions(parent=self, provider=self.provider)

        group_name: pulumi.Input[str]
        group_id: pulumi.Input[str]
        self.resource_group: resources.ResourceGroup | None = None
        if azure.existing_resource_group is None:
            self.resource_group = resources.ResourceGroup(
                f"{name}-rg",
                resource_group_name=azure.names.resource_group,
                location=azure.location,
                tags=tags,
                opts=in_subscription,
            )
            group_name, group_id = self.resource_group.name, self.resource_group.id
        else:
            group_name = azure.existing_resource_group
            group_id = (
                f"/subscriptions/{azure.subscription_id}/resourceGroups/"
                f"{azure.existing_resource_group}"
            )

        # Entra ID objects carry no key/value tags (their `tags` steer Entra behaviour);
        # the notes say who manages them instead.
        notes = "; ".join(f"{key}: {value}" for key, value in tags.items())
        owners = self._owners(name, azure)
        if azure.app_owners is None:
            # The deployer's own ID, set when the app is created and not compared again:
            # the GitOps preview and drift jobs run as another principal, whose ID would
            # otherwise show as an owners change on every preview. Listed `app_owners` are
            # kept as listed.
            owned = pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(ignore_changes=["owners"])
            )
        else:
            owned = child
        self.application = azuread.Application(
            f"{name}-app",
            display_name=azure.names.app_registration,
            notes=notes,
            owners=owners,
            # Fail instead of silently adding a second app of the same name next to one
            # that, e.g., the imperative helper made.
            prevent_duplicate_names=True,
            opts=owned,
        )
        self.service_principal = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=self.application.client_id,
            notes=notes,
            # The service principal is a directory object of its own: under
            # Application.ReadWrite.OwnedBy its updates and deletion need ownership too.
            owners=owners,
            opts=owned,
        )
        # A new generation or end date replaces the secret; Pulumi creates the new one (and
        # updates whatever reads it) before it deletes the old one.
        secret = azuread.ApplicationPassword(
            f"{name}-client-secret",
            application_id=self.application.id,
            display_name=f"pushpools {name} generation {azure.secret_generation}",
            end_date=self._client_secret_end_date(name, azure),
            rotate_when_changed={"generation": str(azure.secret_generation)},
            opts=child,
        )

        self._granted(
            authorization.RoleAssignment(
                f"{name}-run-container-groups",
                # Another role is another assignment (they are immutable): a new name lets
                # Pulumi create it before it deletes the old one.
                role_assignment_name=_guid(azure, name, "run-container-groups", azure.role),
                principal_id=self.service_principal.object_id,
                # Skips the directory lookup that fails while a new principal replicates.
                principal_type="ServicePrincipal",
                role_definition_id=self._runner_role(name, azure, group_id, in_subscription),
                scope=group_id,
                description=f"Prefect runs flows of the work pool {name} as container groups",
                opts=in_subscription,
            )
        )

        self.registry = containerregistry.Registry(
            f"{name}-registry",
            registry_name=azure.registry_name(name),
            resource_group_name=group_name,
            location=azure.location,
            sku={"name": "Basic"},
            # Images are pulled with the managed identity; no shared admin password.
            admin_user_enabled=False,
            tags=tags,
            # Deleting a registry deletes its images: only when the stack says so.
            opts=pulumi.ResourceOptions.merge(
                in_subscription,
                pulumi.ResourceOptions(protect=not azure.delete_images_on_destroy),
            ),
        )
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-acr-identity",
            resource_name_=azure.names.identity,
            resource_group_name=group_name,
            location=azure.location,
            tags=tags,
            opts=in_subscription,
        )
        if azure.role is AciRole.LEAST_PRIVILEGE:
            self._granted(
                authorization.RoleAssignment(
                    f"{name}-assign-identity",
                    # From principal, role and scope: a new identity is a new assignment,
                    # created before the old one is deleted.
                    role_assignment_name=pulumi.Output.all(
                        self.service_principal.object_id, self.identity.id
                    ).apply(lambda ids: _guid(azure, name, "assign-identity", *map(str, ids))),
                    principal_id=self.service_principal.object_id,
                    principal_type="ServicePrincipal",
                    role_definition_id=self._custom_role(
                        name,
                        azure,
                        group_id,
                        "aci-identity-user-role",
                        role_name="Prefect ACI identity user",
                        description=(
                            f"Start container groups of the work pool {name} as the pool's "
                            "identity, and no other"
                        ),
                        actions=ASSIGN_IDENTITY_ACTIONS,
                        opts=in_subscription,
                    ),
                    # This identity only: container groups can run as no other.
                    scope=self.identity.id,
                    description=f"Prefect starts container groups of the work pool {name} "
                    "as the pool's identity",
                    opts=in_subscription,
                )
            )
        self._granted(
            authorization.RoleAssignment(
                f"{name}-acr-pull",
                role_assignment_name=_guid(azure, name, "acr-pull"),
                principal_id=self.identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=_built_in_role(azure, ACR_PULL_ROLE),
                # This registry only: the identity can pull nothing else.
                scope=self.registry.id,
                description=f"Container groups of the work pool {name} pull flow images",
                # A new identity or registry replaces the assignment under the same name,
                # which Azure refuses while the old one exists (and a name derived from
                # them would rename, so replace, every existing stack's assignment: Azure
                # refuses that too, as a duplicate). The old one goes first; nothing can
                # pull with the new identity before its assignment exists anyway.
                opts=pulumi.ResourceOptions.merge(
                    in_subscription, pulumi.ResourceOptions(delete_before_replace=True)
                ),
            )
        )

        # Private networking (components/azure/network.py): the container groups' subnet,
        # and the app's right to place them in it, on that subnet only.
        subnet = declare_subnet(name, azure, group_name, tags, in_subscription)
        if subnet is not None and subnet.needs_join_grant:
            self._granted(
                authorization.RoleAssignment(
                    f"{name}-join-subnet",
                    # From the subnet: another subnet is another assignment, created first.
                    role_assignment_name=_guid(
                        azure, name, "join-subnet", subnet.static_id.lower()
                    ),
                    principal_id=self.service_principal.object_id,
                    principal_type="ServicePrincipal",
                    role_definition_id=self._custom_role(
                        name,
                        azure,
                        subnet.group_id,
                        subnet.role_purpose,
                        role_name="Prefect ACI subnet user",
                        description=(
                            f"Place container groups of the work pool {name} in its subnet, "
                            "and nothing else"
                        ),
                        actions=JOIN_SUBNET_ACTIONS,
                        opts=in_subscription,
                    ),
                    scope=subnet.id,
                    description=f"Prefect places container groups of the work pool {name} "
                    "in its subnet",
                    opts=in_subscription,
                )
            )

        self.application_client_id = self.application.client_id
        self.service_principal_object_id = self.service_principal.object_id
        self.pull_identity_id = self.identity.id
        self.resource_group_name = pulumi.Output.from_input(group_name)
        self._finish(
            credentials_data=pulumi.Output.all(
                client_id=self.application.client_id,
                tenant_id=self.service_principal.application_tenant_id,
                client_secret=secret.value,
            ),
            template_defaults=pulumi.Output.all(
                group=group_name,
                login_server=self.registry.login_server,
                identity=self.identity.id,
                subnet=None if subnet is None else subnet.id,
            ).apply(lambda o: _template_defaults(azure, o)),
            image_namespace=self.registry.login_server,
            outputs={
                "applicationClientId": self.application_client_id,
                "servicePrincipalObjectId": self.service_principal_object_id,
                "pullIdentityId": self.pull_identity_id,
                "resourceGroupName": self.resource_group_name,
            },
        )

    def _owners(self, name: str, azure: AciSettings) -> pulumi.Output[list[str]]:
        """Who owns the app registration and its service principal: `app_owners`, or else
        the principal running Pulumi. A deploy identity holding only Microsoft Graph
        `Application.ReadWrite.OwnedBy` may update and delete only the objects it owns:
        without it among the owners, the next secret rotation or `destroy` is refused (403)."""
        deployer = azuread.get_client_config_output(opts=pulumi.InvokeOptions(parent=self))

        def owners(object_id: str | None) -> list[str]:
            if azure.app_owners is None:
                # A real login always has an object ID; plain unit-test mocks (a user's own
                # tests) may answer the invoke with nothing.
                return [object_id.lower()] if object_id else []
            # Previews run as whoever previews (the GitOps preview identity need not own
            # anything); the principal that applies changes should be among the owners.
            applying = not pulumi.runtime.is_dry_run()
            if applying and object_id and object_id.lower() not in azure.app_owners:
                pulumi.log.warn(
                    f"pool {name}: the principal deploying this stack (object ID "
                    f"{object_id}) is not in azure.app_owners {azure.app_owners}; with "
                    "Microsoft Graph Application.ReadWrite.OwnedBy it cannot update or "
                    "delete the app registration after this update: add it to the list",
                    resource=self,
                )
            return list(azure.app_owners)

        return deployer.object_id.apply(owners)

    def _client_secret_end_date(self, name: str, azure: AciSettings) -> pulumi.Input[str]:
        """The fixed day, or the end of the current rotation period: a new period (the first
        `pulumi up` on or after its rotation day) is a new end date, so a new secret."""
        if azure.client_secret_rotation_days is None:
            return azure.client_secret_end_date
        rotation = Rotation(
            f"{name}-client-secret-rotation",
            rotate_after_days=azure.client_secret_rotation_days,
            valid_days=azure.client_secret_rotation_days + azure.grace_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return rotation.expires_at

    def _runner_role(
        self,
        name: str,
        azure: AciSettings,
        group_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Input[str]:
        """The role Prefect's app gets on the resource group."""
        if azure.role is AciRole.CONTRIBUTOR:
            return _built_in_role(azure, CONTRIBUTOR_ROLE)
        return self._custom_role(
            name,
            azure,
            group_id,
            "aci-runner-role",
            role_name="Prefect ACI runner",
            description=(
                f"Run Prefect flows of the work pool {name} as container groups in "
                f"{azure.resource_group_name}, and nothing else"
            ),
            actions=LEAST_PRIVILEGE_ACTIONS,
            opts=opts,
        )

    def _custom_role(
        self,
        name: str,
        azure: AciSettings,
        group_id: pulumi.Input[str],
        purpose: str,
        *,
        role_name: str,
        description: str,
        actions: tuple[str, ...],
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Input[str]:
        """A custom role assignable in the pool's group; its ID once it has replicated."""
        role = authorization.RoleDefinition(
            f"{name}-{purpose}",
            role_definition_id=_guid(azure, name, purpose),
            # Role names are unique in the tenant: other stacks may have a pool of this name.
            role_name=f"{role_name} {name} {_short_hash(azure, name)}",
            description=description,
            role_type="CustomRole",
            scope=group_id,
            assignable_scopes=[group_id],
            permissions=[{"actions": list(actions), "not_actions": []}],
            opts=opts,
        )
        # A new definition replicates before it can be assigned: the assignment reads the
        # definition's ID through a pause that starts once the definition exists.
        replicated = Pause(
            f"{name}-{purpose}-replication",
            after=role.id,
            seconds=ROLE_REPLICATION_SECONDS,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return replicated.after


def _built_in_role(azure: AciSettings, guid: str) -> str:
    return (
        f"/subscriptions/{azure.subscription_id}/providers/"
        f"Microsoft.Authorization/roleDefinitions/{guid}"
    )


def _guid(azure: AciSettings, pool_name: str, *purpose: str) -> str:
    what = "/".join([azure.subscription_id, azure.resource_group_name.lower(), pool_name, *purpose])
    return str(uuid.uuid5(_PUSHPOOLS_NAMESPACE, what))


def _short_hash(azure: AciSettings, pool_name: str) -> str:
    what = f"{azure.subscription_id}/{azure.resource_group_name.lower()}/{pool_name}"
    return hashlib.sha256(what.encode()).hexdigest()[:8]


def _template_defaults(azure: AciSettings, resolved: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource_group_name": resolved["group"],
        "subscription_id": azure.subscription_id,
        "image_registry": {
            "registry_url": resolved["login_server"],
            "identity": resolved["identity"],
        },
        "identities": [resolved["identity"]],
        # Only with `network`: a pool without one keeps exactly its defaults.
        **({} if resolved.get("subnet") is None else {"subnet_ids": [resolved["subnet"]]}),
    }
