"""Azure Container Instances: which of the helper's objects a pool's resources import, and
the clean-up.

Import IDs follow the "Import" section of each resource's page in the Pulumi Registry
(pulumi-azure-native: the ARM resource ID; pulumi-azuread: `/applications/{object id}`,
`/servicePrincipals/{object id}`), cited next to each rule.

Role assignments are the one thing that cannot move without a gap: pushpools names them
with GUIDs derived from what they are for, the helper's have random GUIDs, a name cannot
change in place, and Azure refuses a second assignment of the same role to the same
principal at the same scope. So the helper's assignment is deleted right before the first
`pulumi up`, which creates pushpools' within seconds. With `role: least-privilege` the
runner role is another role, so that assignment moves without any gap.
"""

from __future__ import annotations

from pushpools.components.azure.pool import ACR_PULL_ROLE, CONTRIBUTOR_ROLE
from pushpools.components.azure.settings import AciSettings
from pushpools.components.config import PoolConfig
from pushpools_tools.migrate_model import Action, CloudPlan, Decision, Declared, Lookup, Step

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
REGISTRY = "azure-native:containerregistry:Registry"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"  # noqa: S105 - a type
# The wait between a new role definition and its assignment (components/pause.py).
PAUSE = "pulumi-python:dynamic/pushpools:Pause"
ROTATION = "pulumi-python:dynamic/pushpools:Rotation"

HELPER_REGISTRY = "<HELPER_REGISTRY_NAME>"


def _settings(pool: PoolConfig) -> AciSettings:
    assert pool.azure is not None
    return pool.azure


def _group_id(azure: AciSettings) -> str:
    return f"/subscriptions/{azure.subscription_id}/resourceGroups/{azure.resource_group_name}"


def _app_lookup(azure: AciSettings, field: str, placeholder: str) -> Lookup:
    return Lookup(
        placeholder,
        f"az ad app list --display-name '{azure.names.app_registration}' "
        f"--query '[0].{field}' --output tsv",
    )


def registry_lookup(azure: AciSettings) -> str:
    return (
        f"az acr list --subscription {azure.subscription_id} --resource-group "
        f"{azure.resource_group_name} --query \"[?starts_with(name, 'prefect')].name\" "
        "--output tsv"
    )


def decide_all(resources: list[Declared], *, registry_given: bool) -> dict[str, Decision]:
    """Each of a pool's resources -> what happens to it (by URN). `registry_given`: the
    stack config names the registry (the helper's, whose name has a timestamp in it)."""
    return {r.urn: _decide(r, registry_given) for r in resources}


def _decide(resource: Declared, registry_given: bool) -> Decision:
    azure = _settings(resource.pool)
    inputs = resource.inputs
    group = _group_id(azure)
    kind = resource.type
    if kind == RESOURCE_GROUP:
        # pulumi-azure-native resources.ResourceGroup, Import:
        # `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}`.
        return Decision(
            Action.IMPORT,
            f"/subscriptions/{azure.subscription_id}/resourceGroups/{inputs['resourceGroupName']}",
        )
    if kind == APPLICATION:
        # pulumi-azuread Application, Import: `/applications/{object id}`.
        lookup = _app_lookup(azure, "id", "<APPLICATION_OBJECT_ID>")
        return Decision(Action.IMPORT, f"/applications/{lookup.placeholder}", lookups=(lookup,))
    if kind == SERVICE_PRINCIPAL:
        # pulumi-azuread ServicePrincipal, Import: `/servicePrincipals/{object id}`.
        lookup = Lookup(
            "<SERVICE_PRINCIPAL_OBJECT_ID>",
            f"az ad sp list --display-name '{azure.names.app_registration}' "
            "--query '[0].id' --output tsv",
        )
        return Decision(
            Action.IMPORT, f"/servicePrincipals/{lookup.placeholder}", lookups=(lookup,)
        )
    if kind == PASSWORD:
        return Decision(Action.NEW_KEY, why="Entra ID shows a client secret only once")
    if kind == IDENTITY:
        # pulumi-azure-native managedidentity.UserAssignedIdentity, Import:
        # `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/
        # Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}`.
        return Decision(
            Action.IMPORT,
            f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
            f"{inputs['resourceName']}",
        )
    if kind == REGISTRY:
        if not registry_given:
            return Decision(
                Action.CREATE,
                why="no azure.names.registry: pushpools makes a registry of its own (set it "
                f"to the helper's registry to import that one: `{registry_lookup(azure)}`)",
            )
        # pulumi-azure-native containerregistry.Registry, Import:
        # `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/
        # Microsoft.ContainerRegistry/registries/{registryName}`.
        return Decision(
            Action.IMPORT,
            f"{group}/providers/Microsoft.ContainerRegistry/registries/{inputs['registryName']}",
        )
    if kind == ROLE_DEFINITION:
        return Decision(Action.CREATE, why="a least-privilege role the helper lacks")
    if kind == PAUSE:
        return Decision(
            Action.CREATE,
            why="a wait for the new role definition to replicate; nothing exists in Azure",
        )
    if kind == ROTATION:
        return Decision(
            Action.CREATE,
            why="the client secret's rotation period, starting at `pulumi up`; nothing "
            "exists in Azure",
        )
    if kind == ROLE_ASSIGNMENT:
        return _role_assignment(resource, azure, registry_given)
    raise LookupError(kind)


def _role_assignment(resource: Declared, azure: AciSettings, registry_given: bool) -> Decision:
    role = str(resource.inputs["roleDefinitionId"]).rsplit("/", 1)[-1]
    if role == CONTRIBUTOR_ROLE:
        return Decision(
            Action.REPLACE,
            why="the helper's Contributor assignment has another name and Azure allows one "
            "per role, principal and scope: it is deleted right before `pulumi up` "
            "(Prefect cannot start container groups for those seconds; `role: "
            "least-privilege` avoids the gap)",
        )
    if role == ACR_PULL_ROLE and registry_given:
        return Decision(
            Action.REPLACE,
            why="the helper's AcrPull assignment has another name and Azure allows one per "
            "role, principal and scope: it is deleted right before `pulumi up` (images "
            "cannot be pulled for those seconds)",
        )
    return Decision(Action.CREATE, why="a grant on something the helper did not make")


def plan(pool: PoolConfig, *, registry_given: bool) -> CloudPlan:
    azure = _settings(pool)
    subscription = f"--subscription {azure.subscription_id}"
    group = _group_id(azure)
    app_id = f"$({_app_lookup(azure, 'appId', '').command})"
    cloud = CloudPlan()
    contributor = (
        f"az role assignment delete {subscription} --assignee {app_id} --role Contributor "
        f"--scope {group}"
    )
    if azure.role == "contributor":
        cloud.before_up.append(
            Step(
                "Delete the helper's Contributor assignment, then run `pulumi up` at once: "
                "it creates pushpools' (same role, same scope)",
                (contributor,),
            )
        )
    else:
        cloud.after_up.append(
            Step(
                "Delete the helper's Contributor assignment on the resource group: the app "
                "now has the least-privilege runner role",
                (contributor,),
            )
        )
    identity = (
        f"$(az identity show {subscription} --resource-group {azure.resource_group_name} "
        f"--name {azure.names.identity} --query principalId --output tsv)"
    )
    if registry_given:
        cloud.before_up.append(
            Step(
                "Delete the helper's AcrPull assignment of the identity on the registry, "
                "then run `pulumi up` at once: it creates pushpools' (same role, same scope)",
                (
                    f"az role assignment delete {subscription} --assignee {identity} --role "
                    f"AcrPull --scope {group}/providers/Microsoft.ContainerRegistry/"
                    f"registries/{azure.names.registry}",
                ),
            )
        )
    else:
        cloud.after_up.append(
            Step(
                "Once no deployment pulls from the helper's registry (push the images to the "
                "new one), delete it; its AcrPull assignment goes with it",
                (
                    registry_lookup(azure),
                    f"az acr delete {subscription} --resource-group "
                    f"{azure.resource_group_name} --name {HELPER_REGISTRY} --yes",
                ),
            )
        )
    cloud.after_up.append(
        Step(
            "Delete the helper's client secret (the block holds the new one, named "
            f"'pushpools {pool.name} generation {azure.secret_generation}')",
            (
                f"az ad app credential list --id {app_id} "
                "--query '[].[keyId,displayName,endDateTime]' --output tsv",
                f"az ad app credential delete --id {app_id} --key-id <OLD_KEY_ID>",
            ),
        )
    )
    return cloud
