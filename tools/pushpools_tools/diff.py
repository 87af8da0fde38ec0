"""What a change does to a stack: two JSON plans compared, for a reviewer.

Resources are matched by URN (what Pulumi matches them by). A resource only in the new
plan is added, only in the old one removed; with the same URN it is changed, or replaced
when an input that forces replacement changed. Which inputs force replacement is the
small table below, taken from the providers' documented ForceNew/replaceOnChanges
properties for the types pushpools declares: an approximation of the provider's own diff.
`pulumi preview` against the real stack is the final word.

Grants and policy statements come first, each marked as widening or narrowing access.
Secrets are never shown: a secret input is "changed" when the two plans' keyed digests of
it differ (see `pushpools_tools.plan.DIGEST_KEY_ENV`), and nothing else is said about it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pushpools_tools.graph import kind_of

# Inputs (wire names) whose change makes the provider replace the resource.
REPLACED_BY: dict[str, tuple[str, ...]] = {
    "gcp:projects/service:Service": ("project", "service"),
    "gcp:serviceaccount/account:Account": ("project", "accountId"),
    "gcp:projects/iAMMember:IAMMember": ("project", "role", "member", "condition"),
    "gcp:serviceaccount/iAMMember:IAMMember": ("serviceAccountId", "role", "member", "condition"),
    "gcp:serviceaccount/key:Key": ("serviceAccountId", "keepers", "keyAlgorithm", "publicKeyType"),
    "gcp:artifactregistry/repository:Repository": ("project", "location", "repositoryId", "format"),
    "gcp:vpcaccess/connector:Connector": (
        "project",
        "region",
        "name",
        "network",
        "ipCidrRange",
        "subnet",
    ),
    "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember": (
        "project",
        "region",
        "subnetwork",
        "role",
        "member",
        "condition",
    ),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/user:User": (),
    "aws:iam/accessKey:AccessKey": ("user", "pgpKey"),
    "aws:iam/policy:Policy": ("name", "namePrefix", "path", "description"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": ("user", "policyArn"),
    "aws:ecr/repository:Repository": ("name",),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "vpcId", "description"),
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    "aws:ec2/route:Route": (
        "routeTableId",
        "destinationCidrBlock",
        "destinationIpv6CidrBlock",
        "destinationPrefixListId",
    ),
    "aws:ec2/eip:Eip": ("domain", "networkBorderGroup", "publicIpv4Pool", "address"),
    "aws:ec2/natGateway:NatGateway": ("allocationId", "subnetId", "connectivityType", "privateIp"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    # The Prefect API key in the secret store: a new value is a new version of the secret.
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretId", "secretString", "secretBinary"),
    "gcp:secretmanager/secret:Secret": ("project", "secretId", "replication"),
    "gcp:secretmanager/secretVersion:SecretVersion": ("secret", "secretData"),
    "gcp:secretmanager/secretIamMember:SecretIamMember": (
        "project",
        "secretId",
        "role",
        "member",
        "condition",
    ),
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "location"),
    "azure-native:containerregistry:Registry": ("resourceGroupName", "registryName", "location"),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "resourceGroupName",
        "resourceName",
        "location",
    ),
    "azure-native:authorization:RoleAssignment": (
        "scope",
        "principalId",
        "roleDefinitionId",
        "roleAssignmentName",
    ),
    "azure-native:authorization:RoleDefinition": ("scope", "roleDefinitionId"),
    # ACI private networking (components/azure/network.py).
    "azure-native:network:VirtualNetwork": ("resourceGroupName", "virtualNetworkName", "location"),
    "azure-native:network:Subnet": (
        "resourceGroupName",
        "virtualNetworkName",
        "subnetName",
        "defaultOutboundAccess",
    ),
    "azure-native:network:NatGateway": ("resourceGroupName", "natGatewayName", "location"),
    "azure-native:network:PublicIPAddress": (
        "resourceGroupName",
        "publicIpAddressName",
        "location",
        "sku",
        "publicIPAddressVersion",
    ),
    "azuread:index/applicationPassword:ApplicationPassword": (
        "applicationId",
        "endDate",
        "displayName",
        "rotateWhenChanged",
    ),
    "azuread:index/servicePrincipal:ServicePrincipal": ("clientId",),
    # pushpools' own providers (components/prefect): their diff() says so.
    "pulumi-python:dynamic/prefect:Block": ("type_slug", "name", "api_url"),
    "pulumi-python:dynamic/prefect:WorkPool": ("name", "type", "api_url"),
    "pulumi-python:dynamic/prefect:WorkQueue": ("name", "work_pool_name", "api_url"),
}

_SECRET_MASK = re.compile(r"^\[secret(?: ([0-9a-f]+))?\]$")
_IGNORED_INPUTS = ("__provider",)  # a dynamic resource's pickled code, not a setting
_POLICY_INPUTS = ("policy", "assumeRolePolicy", "permissions")


@dataclass
class InputChange:
    key: str
    before: Any
    after: Any
    secret: bool = False
    forces_replacement: bool = False


@dataclass
class ResourceChange:
    action: str
    """add, remove, replace or update."""
    type: str
    name: str
    pool: str | None
    inputs: list[InputChange] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    """How access widens or narrows, one line per grant or policy statement."""
    note: str = ""


@dataclass
class PlanDiff:
    stack: str
    changes: list[ResourceChange]
    renamed_pools: dict[str, str] = field(default_factory=dict)
    outputs: list[InputChange] = field(default_factory=list)
    """Stack outputs that change (per pool where an output is per pool): what a team that
    registers the pools by hand reads, so a change there is a change even with no resource
    changing."""

    @property
    def access_changes(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.access]

    def counts(self) -> dict[str, int]:
        counts = {"add": 0, "remove": 0, "replace": 0, "update": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    """Compare two plans of the same stack (`pushpools plan --json` documents)."""
    before = _creating(old)
    after = _creating(new)
    renamed = _renamed_pools(old, new)
    changes: list[ResourceChange] = []
    for urn, resource in after.items():
        previous = before.get(urn) or _renamed_counterpart(resource, before, renamed)
        if previous is None:
            changes.append(_added(resource))
        else:
            change = _compared(previous, resource, renamed_from=previous["urn"] != urn)
            if change is not None:
                changes.append(change)
    matched = {c for r in after.values() for c in _matched_urns(r, before, renamed)}
    for urn, resource in before.items():
        if urn not in after and urn not in matched:
            changes.append(_removed(resource))
    outputs = _output_changes(old.get("outputs") or {}, new.get("outputs") or {})
    return PlanDiff(str(new.get("stack") or old.get("stack") or ""), changes, renamed, outputs)


# Outputs that hold one entry per pool: compared pool by pool.
_PER_POOL_OUTPUTS = ("pools", "prefect_yaml", "credentials_blocks")


def _output_changes(old: dict[str, Any], new: dict[str, Any]) -> list[InputChange]:
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key in _PER_POOL_OUTPUTS and isinstance(a or {}, dict) and isinstance(b or {}, dict):
            a, b = a or {}, b or {}
            for pool in sorted(set(a) | set(b)):
                changes += _value_change(f"{key}.{pool}", a.get(pool), b.get(pool))
        else:
            changes += _value_change(key, a, b)
    return changes


def _value_change(key: str, a: Any, b: Any) -> list[InputChange]:
    secret = _is_mask(a) or _is_mask(b)
    if secret and not _secret_changed(a, b):
        return []
    if not secret and _normalized(a) == _normalized(b):
        return []
    return [InputChange(key, a, b, secret=secret)]


def _creating(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = document.get("resources") or []
    by_urn = {r["urn"]: r for r in resources}
    found = {}
    for r in resources:
        if kind_of(r["type"]) == "component" or r["type"] == "pulumi:pulumi:Stack":
            continue
        top = r
        while top.get("parent") and top["parent"] in by_urn:
            top = by_urn[top["parent"]]
        found[r["urn"]] = {**r, "pool": top["name"] if top is not r else None}
    return found


def _pools(document: dict[str, Any]) -> dict[str, str]:
    return {
        r["name"]: r["type"]
        for r in document.get("resources") or []
        if not r.get("parent") and kind_of(r["type"]) == "component"
    }


def _renamed_pools(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Old name -> new name, where exactly one pool of a component type left and one came.

    Renaming a pool changes every logical name inside it, so Pulumi deletes the old
    resources and creates new ones: pairing them shows the rename as replacements."""
    gone, came = _pools(old), _pools(new)
    renamed = {}
    for type_ in set(gone.values()):
        left = [n for n, t in gone.items() if t == type_ and n not in came]
        arrived = [n for n, t in came.items() if t == type_ and n not in gone]
        if len(left) == 1 and len(arrived) == 1:
            renamed[left[0]] = arrived[0]
    return renamed


def _renamed_counterpart(
    resource: dict[str, Any], before: dict[str, dict[str, Any]], renamed: dict[str, str]
) -> dict[str, Any] | None:
    for candidate in _matched_urns(resource, before, renamed):
        return before[candidate]
    return None


def _matched_urns(
    resource: dict[str, Any], before: dict[str, dict[str, Any]], renamed: dict[str, str]
) -> list[str]:
    for old_pool, new_pool in renamed.items():
        if resource["pool"] != new_pool or not resource["name"].startswith(new_pool):
            continue
        old_name = old_pool + resource["name"].removeprefix(new_pool)
        return [
            urn
            for urn, r in before.items()
            if r["pool"] == old_pool and r["type"] == resource["type"] and r["name"] == old_name
        ]
    return []


def _added(resource: dict[str, Any]) -> ResourceChange:
    change = ResourceChange("add", resource["type"], resource["name"], resource["pool"])
    if kind_of(resource["type"]) in ("grant", "policy"):
        change.access = [f"widens: new {_grant_summary(resource)}"]
    return change


def _removed(resource: dict[str, Any]) -> ResourceChange:
    change = ResourceChange("remove", resource["type"], resource["name"], resource["pool"])
    if kind_of(resource["type"]) in ("grant", "policy"):
        change.access = [f"narrows: removed {_grant_summary(resource)}"]
    return change


def _compared(
    old: dict[str, Any], new: dict[str, Any], *, renamed_from: bool
) -> ResourceChange | None:
    forcing = REPLACED_BY.get(new["type"], ())
    # As Pulumi does, an input the program asks to ignore keeps its old value on update.
    ignored = set(new.get("options", {}).get("ignore_changes") or ())
    inputs = []
    for key in sorted(set(old["inputs"]) | set(new["inputs"])):
        if key in _IGNORED_INPUTS or key in ignored:
            continue
        a, b = old["inputs"].get(key), new["inputs"].get(key)
        secret = _is_mask(a) or _is_mask(b)
        if secret and not _secret_changed(a, b):
            continue
        if not secret and _normalized(a) == _normalized(b):
            continue
        inputs.append(InputChange(key, a, b, secret=secret, forces_replacement=key in forcing))
    # Resource options (protect, delete_before_replace, ...) decide what up and destroy do.
    old_options, new_options = old.get("options", {}), new.get("options", {})
    for key in sorted(set(old_options) | set(new_options)):
        a, b = old_options.get(key), new_options.get(key)
        if a != b:
            inputs.append(InputChange(f"(option) {key}", a, b, secret=False))
    if not inputs and not renamed_from:
        return None
    replaced = renamed_from or any(i.forces_replacement for i in inputs)
    change = ResourceChange(
        "replace" if replaced else "update", new["type"], new["name"], new["pool"], inputs
    )
    if renamed_from:
        change.note = f"renamed from {old['name']}: a new URN, so deleted and created again"
    if kind_of(new["type"]) in ("grant", "policy"):
        change.access = _access_changes(old, new, inputs)
    return change


def _is_mask(value: Any) -> bool:
    return isinstance(value, str) and _SECRET_MASK.match(value) is not None


def _secret_changed(a: Any, b: Any) -> bool:
    """A secret changed when it appeared, vanished, or its keyed digest differs. Without
    digests on both sides (plans made without a shared key) nothing can be said."""
    if not (_is_mask(a) and _is_mask(b)):
        return True
    digest_a = _SECRET_MASK.match(a).group(1)  # type: ignore[union-attr]
    digest_b = _SECRET_MASK.match(b).group(1)  # type: ignore[union-attr]
    return bool(digest_a and digest_b and digest_a != digest_b)


def _normalized(value: Any) -> Any:
    """Policy documents arrive as JSON text: compare what they say, not their spacing."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _grant_summary(resource: dict[str, Any]) -> str:
    i = resource["inputs"]
    if "role" in i and "member" in i:
        scope = i.get("project") or i.get("serviceAccountId") or i.get("repository") or "?"
        if "subnetwork" in i:  # a grant on one subnet, not on its project
            scope = f"subnet {i['subnetwork']} of {scope} in {i.get('region')}"
        return f"grant {i['role']} to {i['member']} on {scope}"
    if resource["type"] == "azure-native:authorization:RoleDefinition":
        actions = [a for p in i.get("permissions") or [] for a in p.get("actions") or []]
        scopes = ", ".join(i.get("assignableScopes") or []) or "?"
        return (
            f"custom role {i.get('roleName')!r} allows {', '.join(actions) or 'nothing'} "
            f"(assignable on {scopes})"
        )
    if "roleDefinitionId" in i:
        principal, scope = i.get("principalId"), i.get("scope")
        return f"role assignment {_role_name(i['roleDefinitionId'])} to {principal} on {scope}"
    if "policyArn" in i:
        holder = i.get("role") or i.get("user")
        return f"policy {i['policyArn']} attached to {holder}"
    statements = [s for key in _POLICY_INPUTS for s in _statements(i.get(key))]
    if statements:
        return f"{resource['type'].rsplit(':', 1)[-1]} {resource['name']}: " + "; ".join(statements)
    return f"{resource['type'].rsplit(':', 1)[-1]} {resource['name']}"


# Azure's built-in roles by their fixed IDs, as a reviewer knows them.
_BUILT_IN_ROLES = {
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "8311e382-0749-4cb8-b61a-304f252e45ec": "AcrPush",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
}


def _role_name(role_definition_id: Any) -> str:
    """A role definition ID with the built-in role's name (`Contributor (b249...)`)."""
    text = str(role_definition_id)
    guid = text.rsplit("/", 1)[-1]
    name = _BUILT_IN_ROLES.get(guid)
    return f"{name} ({text})" if name else text


def _access_changes(
    old: dict[str, Any], new: dict[str, Any], inputs: list[InputChange]
) -> list[str]:
    lines = []
    for change in inputs:
        if change.key in _POLICY_INPUTS:
            was, now = set(_statements(change.before)), set(_statements(change.after))
            lines += [f"widens: {s}" for s in sorted(now - was)]
            lines += [f"narrows: {s}" for s in sorted(was - now)]
        elif change.key == "roleDefinitionId":
            before, after = _role_name(change.before), _role_name(change.after)
            lines.append(f"changes: {change.key} {before} -> {after}")
        elif change.key in ("role", "member", "principalId", "scope"):
            lines.append(f"changes: {change.key} {change.before} -> {change.after}")
    if not lines and inputs:
        lines.append(f"changes: {_grant_summary(new)} (was: {_grant_summary(old)})")
    return lines


def _statements(document: Any) -> list[str]:
    """Each statement of an IAM policy (or Azure role permissions) as one line, so that
    two documents compare statement by statement and action by action."""
    parsed = _normalized(document)
    if isinstance(parsed, dict) and "Statement" in parsed:
        found = []
        statements = parsed["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action") or statement.get("NotAction") or []
            for action in [actions] if isinstance(actions, str) else actions:
                line = f"{statement.get('Effect', 'Allow')} {action}"
                resources = statement.get("Resource") or statement.get("Principal")
                if resources:
                    line += f" on {json.dumps(resources, sort_keys=True)}"
                if statement.get("Condition"):
                    line += f" if {json.dumps(statement['Condition'], sort_keys=True)}"
                found.append(line)
        return found
    if isinstance(parsed, list):  # azure-native role definition permissions
        return [
            f"{field_} {action}"
            for permission in parsed
            if isinstance(permission, dict)
            for field_ in ("actions", "dataActions", "notActions", "notDataActions")
            for action in permission.get(field_) or []
        ]
    return []


_ACTIONS = {"add": "+", "remove": "-", "replace": "±", "update": "~"}


def render_text(diff: PlanDiff) -> str:
    return "\n".join(_render(diff, markdown=False)) + "\n"


def render_markdown(diff: PlanDiff) -> str:
    return "\n".join(_render(diff, markdown=True)) + "\n"


def _render(diff: PlanDiff, *, markdown: bool) -> list[str]:
    counts = diff.counts()
    summary = ", ".join(f"{n} to {action}" for action, n in counts.items() if n)
    if diff.outputs:
        noun = "output changes" if len(diff.outputs) == 1 else "outputs change"
        summary = f"{summary or 'no resource changes'}; {len(diff.outputs)} {noun}"
    summary = summary or "no changes"
    item, sub = ("- ", "  - ") if markdown else ("    ", "        ")
    title = f"### Stack `{diff.stack}`" if markdown else f"stack {diff.stack}"
    lines = [f"{title}: {summary}"]
    lines += [
        f"{item}pool {old} renamed to {new}: its resources are replaced"
        for old, new in diff.renamed_pools.items()
    ]
    if diff.access_changes:
        lines += ["", "**Access (grants and policies)**" if markdown else "  access:"]
        lines += [f"{item}{line} ({c.name})" for c in diff.access_changes for line in c.access]
    if diff.changes:
        lines += ["", "**Resources**" if markdown else "  resources:"]
    for change in sorted(diff.changes, key=lambda c: (list(_ACTIONS).index(c.action), c.name)):
        head = f"{_ACTIONS[change.action]} {change.action} {change.type} {change.name}"
        lines.append(f"{item}`{head}`" if markdown else f"{item}{head}")
        if change.note:
            lines.append(f"{sub}{change.note}")
        lines += [f"{sub}{_input_line(i, markdown=markdown)}" for i in change.inputs]
    if diff.outputs:
        lines += ["", "**Stack outputs**" if markdown else "  outputs:"]
        lines += [f"{item}{_input_line(i, markdown=markdown)}" for i in diff.outputs]
    return lines


def _input_line(change: InputChange, *, markdown: bool) -> str:
    tick = "`" if markdown else ""
    forcing = " (forces replacement)" if change.forces_replacement else ""
    if change.secret:
        return f"{tick}{change.key}{tick}: [secret] changed{forcing}"
    if change.key in _POLICY_INPUTS:
        return f"{tick}{change.key}{tick}: changed, statement by statement under access{forcing}"
    return (
        f"{tick}{change.key}{tick}: {tick}{_short(change.before)}{tick} → "
        f"{tick}{_short(change.after)}{tick}{forcing}"
    )


def _short(value: Any) -> str:
    # In full: a reviewer must see all of a value, never a cut.
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.replace("`", "'").replace("\n", " ")
