"""`pushpools migrate`: the import file joined with the offline plan, its schema, the
import IDs against each provider's documented format, and the dry run.

The import file is read the way `pulumi import --file` reads it (pulumi/pulumi,
pkg/cmd/pulumi/operations/import.go: `importFile`, `importSpec`, `parseImportFile`): a
resource's URN is built from the stack, the project, its parent's qualified type (the
parent found by name, in `nameTable` or among the file's own entries) and its logical
name. That URN must be the one the program declares, or the first `pulumi up` would
create a second copy and delete the import.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pushpools_tools.engine import STACK_TYPE, ProgramRun, reveal
from pushpools_tools.migrate import (
    MigrateOptions,
    Migration,
    MigrationError,
    build_migration,
    import_file,
    render,
)
from pushpools_tools.migrate_model import Action
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackSettings, load_stack
from tests.harness import PROJECT_DIR, PUSHPOOLS, settings_for

# The documented bulk-import format (`importFile` / `importSpec`, JSON tags as written).
IMPORT_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "nameTable": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": "^urn:pulumi:"},
        },
        "resources": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "name"],
                "properties": {
                    "type": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "minLength": 1},
                    "id": {"type": "string", "minLength": 1},
                    "parent": {"type": "string"},
                    "provider": {"type": "string"},
                    "version": {"type": "string"},
                    "pluginDownloadUrl": {"type": "string"},
                    "properties": {"type": "array", "items": {"type": "string"}},
                    "component": {"type": "boolean"},
                    "remote": {"type": "boolean"},
                    "logicalName": {"type": "string"},
                },
            },
        },
        "providerInputs": {"type": "object"},
    },
}

# The physical names `--provision-infra` gives (docs: push-pools.md, the helper's code).
HELPER_NAMES = {
    "prefect-cloud-run",
    "prefect-images",
    "PrefectEcsTaskExecutionRole",
    "prefect-ecs-user",
    "prefect-ecs-policy",
    "prefect-ecs-cluster",
    "prefect-flows",
    "prefect-ecs-security-group",
    "prefect-aci-push-pool-rg",
    "prefect-aci-push-pool-app",
    "prefect-acr-identity",
}
# Where a resource's own physical name is (its owner's, for keys).
NAME_INPUTS = ("name", "accountId", "repositoryId", "resourceName", "displayName", "registryName")
KEY_OWNER_INPUTS = ("user", "serviceAccountId", "applicationId")


def _own_names(type_: str, inputs: dict[str, Any]) -> list[str]:
    fields = NAME_INPUTS + KEY_OWNER_INPUTS
    if type_ == "azure-native:resources:ResourceGroup":
        fields += ("resourceGroupName",)
    return [str(inputs[f]) for f in fields if isinstance(inputs.get(f), str)]


SUBSCRIPTION = "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b"
# Pools the helper made: the stack config takes its names (`naming: helper`).
GCP_POOL = {
    "name": "flows-gcp",
    "type": "cloud-run:push",
    "naming": "helper",
    "gcp": {"project": "acme-data-prod"},
}
AWS_POOL = {
    "name": "flows-ecs",
    "type": "ecs:push",
    "naming": "helper",
    "aws": {"region": "eu-west-1"},
}
AZURE_POOL = {
    "name": "flows-aci",
    "type": "azure-container-instance:push",
    "naming": "helper",
    "azure": {"subscription_id": SUBSCRIPTION, "client_secret_expires_on": "2027-06-01"},
}

# Documented import ID formats (Pulumi Registry, each resource's "Import" section).
_NAME = r"[\w+=,.@-]+"
_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SUB = rf"/subscriptions/{_GUID}/resourceGroups/[\w.()-]+"
_SA = r"[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com"
_POLICY_ARN = r"arn:aws:iam::(aws|\d{12}):policy/[\w+=,.@/-]+"
DOCUMENTED_IDS = {
    # gcp projects.Service: `{{project_id}}/{{service}}`
    "gcp:projects/service:Service": r"[a-z][a-z0-9-]+/[a-z]+\.googleapis\.com",
    # gcp artifactregistry.Repository:
    # `projects/{{project}}/locations/{{location}}/repositories/{{repository_id}}`
    "gcp:artifactregistry/repository:Repository": (
        r"projects/[a-z0-9-]+/locations/[a-z0-9-]+/repositories/[a-z0-9-]+"
    ),
    # gcp serviceaccount.Account: `projects/{{project_id}}/serviceAccounts/{{email}}`
    "gcp:serviceaccount/account:Account": (
        r"projects/([a-z0-9-]+)/serviceAccounts/[a-z0-9-]+@\1\.iam\.gserviceaccount\.com"
    ),
    # gcp projects.IAMMember: `"{{project_id}} roles/viewer user:foo@example.com"`
    "gcp:projects/iAMMember:IAMMember": rf"[a-z0-9-]+ roles/[\w.]+ serviceAccount:{_SA}",
    # aws iam.Role / iam.User: the name
    "aws:iam/role:Role": _NAME,
    "aws:iam/user:User": _NAME,
    # aws iam.Policy: the ARN
    "aws:iam/policy:Policy": rf"arn:aws:iam::\d{{12}}:policy/{_NAME}",
    # aws iam.RolePolicyAttachment / UserPolicyAttachment: `<role or user>/<policy ARN>`
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": rf"{_NAME}/{_POLICY_ARN}",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": rf"{_NAME}/{_POLICY_ARN}",
    # aws ecr.Repository / ecs.Cluster: the name
    "aws:ecr/repository:Repository": r"[a-z0-9._/-]+",
    "aws:ecs/cluster:Cluster": r"[A-Za-z0-9_-]+",
    # aws ec2: the resource ID; a route table association: `<subnet ID>/<route table ID>`
    "aws:ec2/vpc:Vpc": r"vpc-[0-9a-f]{8,17}",
    "aws:ec2/internetGateway:InternetGateway": r"igw-[0-9a-f]{8,17}",
    "aws:ec2/routeTable:RouteTable": r"rtb-[0-9a-f]{8,17}",
    "aws:ec2/subnet:Subnet": r"subnet-[0-9a-f]{8,17}",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        r"subnet-[0-9a-f]{8,17}/rtb-[0-9a-f]{8,17}"
    ),
    # azure-native: the ARM resource ID
    "azure-native:resources:ResourceGroup": _SUB,
    "azure-native:managedidentity:UserAssignedIdentity": (
        rf"{_SUB}/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[\w-]+"
    ),
    "azure-native:containerregistry:Registry": (
        rf"{_SUB}/providers/Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]+"
    ),
    # azuread: `/applications/{object id}`, `/servicePrincipals/{object id}`
    "azuread:index/application:Application": rf"/applications/{_GUID}",
    "azuread:index/servicePrincipal:ServicePrincipal": rf"/servicePrincipals/{_GUID}",
}
# What a lookup command prints, for the placeholders of each kind.
SAMPLE_VALUES = {
    "<AWS_ACCOUNT_ID>": "210987654321",
    "<VPC_ID>": "vpc-0a1b2c3d4e5f60718",
    "<INTERNET_GATEWAY_ID>": "igw-0a1b2c3d4e5f60718",
    "<ROUTE_TABLE_ID>": "rtb-0a1b2c3d4e5f60718",
    "<APPLICATION_OBJECT_ID>": "0b7a3c55-2d0e-4a43-9a8e-3f1c2b4d5e6f",
    "<SERVICE_PRINCIPAL_OBJECT_ID>": "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
}


def _migrate(
    pools: list[dict[str, Any]],
    options: MigrateOptions | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[ProgramRun, Migration]:
    settings = settings_for({"pushpools:pools": pools, **(extra or {})})
    run = run_stack(PROJECT_DIR, settings)
    return run, build_migration(run, settings, options or MigrateOptions())


def _dev_with_helper_names() -> StackSettings:
    """The dev stack (a pool of every kind), its cloud pools made by the helper."""
    settings = load_stack(PROJECT_DIR, PROJECT_DIR / "stacks" / "Pulumi.dev.yaml", "dev")
    pools = [
        {**p, "naming": "helper"} if p["type"] not in ("modal:push", "prefect:managed") else p
        for p in json.loads(settings.config["pushpools:pools"])
    ]
    config = {**settings.config, "pushpools:pools": json.dumps(pools)}
    return StackSettings(settings.project, "dev", config, settings.secret_keys)


def _dev() -> tuple[ProgramRun, Migration, StackSettings]:
    settings = _dev_with_helper_names()
    run = run_stack(PROJECT_DIR, settings)
    return run, build_migration(run, settings), settings


def _dev_stack_file(tmp_path: Path) -> Path:
    """The dev stack file, its cloud pools with `naming: helper`."""
    stack = yaml.safe_load((PROJECT_DIR / "stacks" / "Pulumi.dev.yaml").read_text())
    for pool in stack["config"]["pushpools:pools"]:
        if pool["type"] not in ("modal:push", "prefect:managed"):
            pool["naming"] = "helper"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(stack))
    return path


@pytest.fixture(scope="module")
def dev() -> tuple[ProgramRun, Migration, StackSettings]:
    return _dev()


def _urn_as_pulumi_import_builds(
    entry: dict[str, Any], document: dict[str, Any], stack: str, project: str
) -> str:
    """parseImportFile: NewURN(stack, project, parent's qualified type, type, logicalName)."""
    parent_type = ""
    if entry.get("parent"):
        table = document.get("nameTable", {})
        if entry["parent"] in table:
            parent_type = table[entry["parent"]].split("::")[2]
        else:
            parent = next(r for r in document["resources"] if r["name"] == entry["parent"])
            parent_urn = _urn_as_pulumi_import_builds(parent, document, stack, project)
            parent_type = parent_urn.split("::")[2]
    qualified = f"{parent_type}${entry['type']}" if parent_type else entry["type"]
    name = entry.get("logicalName") or entry["name"]
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _declared_urns(run: ProgramRun) -> set[str]:
    """The program's URNs as the real engine names them: the mock engine prefixes children
    of the root stack with the stack's type, which real URNs never carry."""
    return {r.urn.replace(f"::{STACK_TYPE}$", "::") for r in run.resources if r.type != STACK_TYPE}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"<[A-Z_a-z0-9-]+>", text))


def _fill(text: str) -> str:
    for placeholder, value in SAMPLE_VALUES.items():
        text = text.replace(placeholder, value)
    return re.sub(
        r"<SUBNET_ID_[a-z0-9-]+>",
        lambda m: "subnet-" + format(abs(hash(m.group(0))) % 16**17, "017x"),
        text,
    )


def test_the_import_file_matches_pulumis_documented_schema(dev) -> None:
    _, migration, _ = dev
    document = import_file(migration)
    jsonschema.validate(document, IMPORT_FILE_SCHEMA)
    names = [r["name"] for r in document["resources"]] + list(document.get("nameTable", {}))
    assert len(names) == len(set(names))
    for entry in document["resources"]:
        # Components carry no ID; everything else does (parseImportFile refuses otherwise).
        assert ("id" in entry) is not entry.get("component", False), entry
        if "parent" in entry:
            known = {r["name"] for r in document["resources"]} | set(document.get("nameTable", {}))
            assert entry["parent"] in known, entry
        if "provider" in entry:
            assert entry["provider"] in document["nameTable"], entry


def test_the_import_file_and_steps_do_not_depend_on_registration_order(dev) -> None:
    # Registration order varies from run to run; a user who commits the import file, or
    # reruns the dry run, must not see entries move.
    import dataclasses
    import random

    run, migration, settings = dev
    order = random.Random(3).sample(run.resources, k=len(run.resources))
    again = build_migration(dataclasses.replace(run, resources=order), settings)
    assert import_file(again) == import_file(migration)
    assert render(again, "f.json", written=True) == render(migration, "f.json", written=True)


def test_every_entry_is_a_resource_the_program_declares(dev) -> None:
    run, migration, _ = dev
    document = import_file(migration)
    declared = _declared_urns(run)
    entries = document["resources"]
    assert len(entries) >= 15
    for entry in entries:
        urn = _urn_as_pulumi_import_builds(entry, document, run.stack, run.project)
        assert urn in declared, urn
    for name, urn in document.get("nameTable", {}).items():
        assert urn in declared, (name, urn)


def test_nothing_with_a_helper_name_is_missing_but_keys_and_the_unusable_group(dev) -> None:
    run, migration, _ = dev
    document = import_file(migration)
    imported = {(r["type"], r.get("logicalName")) for r in document["resources"]}
    missing = []
    for resource in run.resources:
        own = _own_names(resource.type, reveal(resource.inputs))
        helper_named = any(
            name in HELPER_NAMES
            or name.endswith(
                tuple(f"/{n}@acme-data-dev.iam.gserviceaccount.com" for n in HELPER_NAMES)
            )
            for name in own
        )
        if helper_named and (resource.type, resource.name) not in imported:
            missing.append(resource.type)
    keys = ["aws:iam/accessKey:AccessKey", "gcp:serviceaccount/key:Key"]
    # The helper's security group cannot be imported (its description is immutable and
    # differs); pushpools makes its own and the dry run says so.
    assert sorted(missing) == ["aws:ec2/securityGroup:SecurityGroup", *keys]
    text = render(migration, "pushpools-import.json", written=False)
    listed = {r.type for p in migration.pools for r, _ in p.with_action(Action.NEW_KEY)}
    assert set(keys) | {"azuread:index/applicationPassword:ApplicationPassword"} == listed
    for pool in migration.pools:
        for resource, _ in pool.with_action(Action.NEW_KEY):
            section = text.split(f"Pool {pool.pool.name!r}")[1].split("Keys: not imported")[1]
            assert resource.name in section.split("Prefect:")[0]
    create = {r.type: d.why for p in migration.pools for r, d in p.with_action(Action.CREATE)}
    assert "description cannot change" in create["aws:ec2/securityGroup:SecurityGroup"]


def test_keys_are_never_in_the_import_file(dev) -> None:
    _, migration, _ = dev
    types = {r["type"] for r in import_file(migration)["resources"]}
    assert not types & {
        "gcp:serviceaccount/key:Key",
        "aws:iam/accessKey:AccessKey",
        "azuread:index/applicationPassword:ApplicationPassword",
    }


def test_import_ids_follow_each_providers_documented_format(dev) -> None:
    _, migration, _ = dev
    _, helper_vpc = _migrate(
        [AWS_POOL | {"aws": {"region": "eu-west-1", "network": {"cidr_block": "172.31.0.0/16"}}}],
        MigrateOptions(helper_vpc=True),
    )
    _, own_registry = _migrate(
        [
            AZURE_POOL
            | {"azure": {**AZURE_POOL["azure"], "names": {"registry": "prefect1700000000"}}}
        ]
    )
    checked = set()
    for document in (import_file(migration), import_file(helper_vpc), import_file(own_registry)):
        for entry in document["resources"]:
            if entry.get("component"):
                continue
            pattern = DOCUMENTED_IDS[entry["type"]]
            assert re.fullmatch(pattern, _fill(entry["id"])), (entry["type"], entry["id"])
            checked.add(entry["type"])
    # Every type migrate imports was checked against its documented format.
    assert checked == set(DOCUMENTED_IDS)


def test_every_placeholder_comes_with_the_command_that_looks_it_up() -> None:
    _, migration = _migrate(
        [
            AWS_POOL | {"aws": {"region": "eu-west-1", "network": {"cidr_block": "172.31.0.0/16"}}},
            AZURE_POOL,
        ],
        MigrateOptions(helper_vpc=True),
    )
    document = json.dumps(import_file(migration))
    text = render(migration, "pushpools-import.json", written=False)
    placeholders = _placeholders(document)
    assert {"<AWS_ACCOUNT_ID>", "<VPC_ID>", "<APPLICATION_OBJECT_ID>"} <= placeholders
    commands = {lookup.placeholder: lookup.command for lookup in migration.lookups()}
    assert placeholders <= set(commands)
    for placeholder in placeholders:
        assert f"{placeholder}: {commands[placeholder]}" in text
        assert commands[placeholder].split()[0] in ("aws", "az", "gcloud")
    assert "--filters Name=tag:Name,Values=prefect-ecs-vpc" in commands["<VPC_ID>"]
    assert "--display-name 'prefect-aci-push-pool-app'" in commands["<APPLICATION_OBJECT_ID>"]


def test_the_helper_vpc_is_imported_subnet_by_subnet_only_when_asked() -> None:
    pool = AWS_POOL | {"aws": {"region": "eu-west-1", "network": {"cidr_block": "172.31.0.0/16"}}}
    _, own = _migrate([pool])
    _, helpers = _migrate([pool], MigrateOptions(helper_vpc=True))
    own_types = {r["type"] for r in import_file(own)["resources"]}
    assert "aws:ec2/vpc:Vpc" not in own_types
    entries = import_file(helpers)["resources"]
    subnets = [r for r in entries if r["type"] == "aws:ec2/subnet:Subnet"]
    associations = [
        r for r in entries if r["type"] == "aws:ec2/routeTableAssociation:RouteTableAssociation"
    ]
    assert len(subnets) == len(associations) == 3
    for subnet in subnets:
        zone = subnet["logicalName"].removeprefix("flows-ecs-public-")
        assert subnet["id"] == f"<SUBNET_ID_{zone}>"
        assert any(a["id"] == f"<SUBNET_ID_{zone}>/<ROUTE_TABLE_ID>" for a in associations)
    # The helper's subnets are the VPC's first three /18 quarters, zone by zone.
    lookups = {lookup.placeholder: lookup.command for lookup in helpers.lookups()}
    cidrs = [c for c in ("172.31.0.0/18", "172.31.64.0/18", "172.31.128.0/18")]
    assert sorted(cidrs) == sorted(
        re.search(r"cidr-block,Values=(\S+)", lookups[f"<SUBNET_ID_{z}>"]).group(1)  # type: ignore[union-attr]
        for z in ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    )
    # In the helper's VPC its unused group holds the name: it must go before `pulumi up`.
    text = render(helpers, "f.json", written=False)
    before_up = text.split("pulumi import")[1].split("pulumi up --stack")[0]
    assert "delete-security-group" in before_up


def test_helper_vpc_refuses_a_pool_that_declares_no_vpc_to_import_into() -> None:
    pool = AWS_POOL | {
        "aws": {
            "region": "eu-west-1",
            "network": {"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d"]},
        }
    }
    with pytest.raises(MigrationError) as caught:
        _migrate([pool], MigrateOptions(helper_vpc=True))
    assert caught.value.problems[0].startswith(
        "pushpools:pools[0].aws.network.vpc_id: 'vpc-0a1b2c3d'"
    )


def test_registration_on_needs_adopt_existing_naming_the_key() -> None:
    # A self-hosted server: the push type's worker type, with the same infrastructure.
    prefect = {"pushpools:prefect": {"api_url": "http://127.0.0.1:4200/api"}}
    worker_pool = GCP_POOL | {"type": "cloud-run"}
    with pytest.raises(MigrationError) as caught:
        _migrate([worker_pool], extra=prefect)
    assert caught.value.problems == [
        "pushpools:pools[0].prefect.adopt_existing: false; migrating needs true, so that the "
        "first `pulumi up` takes over the helper's work pool 'flows-gcp' and block "
        "'flows-gcp-push-pool-credentials' in place instead of failing on them"
    ]
    adopting = worker_pool | {"prefect": {"adopt_existing": True}}
    _, migration = _migrate([adopting], extra=prefect)
    assert "adopted in place" in "\n".join(migration.pools[0].prefect)


def test_gcp_moves_the_project_wide_act_as_grant_to_the_runtime_account() -> None:
    _, migration = _migrate([GCP_POOL])
    pool = migration.pools[0]
    imported = {r.name: d.import_id for r, d in pool.with_action(Action.IMPORT)}
    email = "prefect-cloud-run@acme-data-prod.iam.gserviceaccount.com"
    assert imported["flows-gcp-prefect-sa"] == f"projects/acme-data-prod/serviceAccounts/{email}"
    assert "flows-gcp-act-as-runtime" in {r.name for r, _ in pool.with_action(Action.CREATE)}
    cleanup = "\n".join(c for s in pool.cloud.after_up for c in s.commands)
    assert (
        "gcloud projects remove-iam-policy-binding acme-data-prod --member "
        "serviceAccount:prefect-cloud-run@acme-data-prod.iam.gserviceaccount.com "
        "--role roles/iam.serviceAccountUser"
    ) in cleanup
    assert "gcloud iam service-accounts keys delete" in cleanup

    # Keeping the helper's project-wide grant imports it instead, and removes nothing.
    kept = GCP_POOL | {
        "gcp": {"project": "acme-data-prod", "service_account_user_scope": "project"}
    }
    _, migration = _migrate([kept])
    pool = migration.pools[0]
    grant = f"acme-data-prod roles/iam.serviceAccountUser serviceAccount:{email}"
    assert grant in {d.import_id for _, d in pool.with_action(Action.IMPORT)}
    assert "remove-iam-policy-binding" not in json.dumps([s.commands for s in pool.cloud.after_up])


def test_gcp_clears_room_for_the_new_key_before_up() -> None:
    """The helper mints a key per run and GCP allows ten per account: the first `pulumi up`
    after the import creates one more, so room must be made before it, not after."""
    _, migration = _migrate([GCP_POOL])
    text = render(migration, "f.json", written=False)
    before_up = text.split("pulumi import")[1].split("pulumi up --stack")[0]
    email = "prefect-cloud-run@acme-data-prod.iam.gserviceaccount.com"
    assert "10 keys per service account" in before_up
    assert (
        f"gcloud iam service-accounts keys list --iam-account {email} --managed-by user "
        "--project acme-data-prod"
    ) in before_up
    assert f"gcloud iam service-accounts keys delete <UNUSED_KEY_ID> --iam-account {email}" in (
        before_up
    )


def test_azure_providers_are_in_state_before_the_import_that_names_them() -> None:
    _run, migration = _migrate([AZURE_POOL])
    document = import_file(migration)
    provider_urn = (
        "urn:pulumi:test::pushpools::pushpools:azure:AciPushPool$pulumi:providers:azure-native"
        "::flows-aci-azure-native"
    )
    assert document["nameTable"] == {
        "flows-aci": "urn:pulumi:test::pushpools::pushpools:azure:AciPushPool::flows-aci",
        "flows-aci-azure-native": provider_urn,
    }
    arm = [r for r in document["resources"] if r["type"].startswith("azure-native:")]
    assert arm
    assert all(r["provider"] == "flows-aci-azure-native" for r in arm)
    entra = [r for r in document["resources"] if r["type"].startswith("azuread:")]
    assert entra
    assert all("provider" not in r for r in entra)
    text = render(migration, "f.json", written=False)
    targeted = text.index(f"--target '{provider_urn}'")
    assert targeted < text.index("pulumi import --stack test --file f.json")


def test_azure_contributor_is_replaced_right_before_up_unless_least_privilege() -> None:
    _, migration = _migrate([AZURE_POOL])
    pool = migration.pools[0]
    assert [r.name for r, _ in pool.with_action(Action.REPLACE)] == [
        "flows-aci-run-container-groups"
    ]
    text = render(migration, "f.json", written=False)
    after_import = text.split("pulumi import --stack test")[1]
    assert after_import.index("--role Contributor") < after_import.index("pulumi up --stack test")

    least = AZURE_POOL | {"azure": {**AZURE_POOL["azure"], "role": "least-privilege"}}
    _, migration = _migrate([least])
    pool = migration.pools[0]
    assert pool.with_action(Action.REPLACE) == []
    assert any("--role Contributor" in c for s in pool.cloud.after_up for c in s.commands)


def test_prefect_only_pools_have_nothing_to_import(dev) -> None:
    _, migration, _ = dev
    for pool in migration.pools:
        if pool.pool.type.value in ("modal:push", "prefect:managed"):
            assert pool.decisions == []


def test_cli_dry_run_writes_nothing_and_the_real_run_writes_the_file(tmp_path: Path) -> None:
    cli = str(PUSHPOOLS)
    out = tmp_path / "import.json"
    stack_file = str(_dev_stack_file(tmp_path))
    dry = subprocess.run(
        [cli, "migrate", "--stack-file", stack_file, "--dry-run", "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr
    assert not out.exists()
    assert "Dry run: nothing written" in dry.stdout
    for heading in (
        "Imported into state",
        "Created by `pulumi up`",
        "Keys: not imported",
        "Left behind",
    ):
        assert heading in dry.stdout
    real = subprocess.run(
        [cli, "migrate", "--stack-file", stack_file, "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert real.returncode == 0, real.stderr
    jsonschema.validate(json.loads(out.read_text()), IMPORT_FILE_SCHEMA)
    assert f"Wrote {out}" in real.stdout


def test_cli_refuses_an_unknown_pool_with_exit_2(tmp_path: Path) -> None:
    cli = str(PUSHPOOLS)
    result = subprocess.run(
        [cli, "migrate", "--stack-file", str(_dev_stack_file(tmp_path)), "--pool", "nope"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "--pool 'nope': the stack has no such pool; allowed: dev-cloud-run"
    )
    assert "Traceback" not in result.stderr


def test_pools_with_derived_names_are_refused_naming_the_key() -> None:
    derived = {**GCP_POOL, "naming": "derived"}
    with pytest.raises(MigrationError) as caught:
        _migrate([derived, AWS_POOL])
    assert caught.value.problems == [
        "pushpools:pools[0].naming: 'derived'; migrating needs 'helper': the helper's objects "
        "carry its fixed names (e.g. the service account prefect-cloud-run), which `naming: "
        "helper` gives (names set under pushpools:pools[0].gcp.names still win)"
    ]


def test_the_cli_says_why_the_shipped_dev_stack_cannot_be_migrated_as_it_is() -> None:
    cli = str(PUSHPOOLS)
    result = subprocess.run(
        [cli, "migrate", "--stack", "dev", "--dry-run"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("pushpools:pools[0].naming: 'derived'; migrating needs")
    assert "Traceback" not in result.stderr


def test_a_coiled_pool_migrates_by_adopting_the_helpers_block_and_pool() -> None:
    # The helper makes only a coiled-credentials block and the pool: nothing to import
    # into state, both adopted in place by the first `pulumi up` (the new token goes in).
    prefect = {"pushpools:prefect": {"api_url": "http://127.0.0.1:4200/api"}}
    pool = {"name": "etl-coiled", "type": "coiled", "coiled": {"workspace": "acme"}}
    secrets = {"pushpools:coiledApiToken": "coiled-tok-x"}
    with pytest.raises(MigrationError) as caught:
        _migrate_secret([pool], {**prefect, **secrets})
    assert caught.value.problems == [
        "pushpools:pools[0].prefect.adopt_existing: false; migrating needs true, so that the "
        "first `pulumi up` takes over the helper's work pool 'etl-coiled' and block "
        "'etl-coiled-coiled-credentials' in place instead of failing on them"
    ]
    adopting = pool | {"prefect": {"adopt_existing": True}}
    migration = _migrate_secret([adopting], {**prefect, **secrets})
    assert migration.pools[0].decisions == []
    assert (
        migration.pools[0]
        .prefect[0]
        .startswith("block coiled-credentials/etl-coiled-coiled-credentials: adopted in place")
    )


def _migrate_secret(pools: list[dict[str, Any]], extra: dict[str, Any]) -> Migration:
    secret_keys = [key for key in extra if key.endswith("Token")]
    settings = settings_for({"pushpools:pools": pools, **extra}, secret_keys)
    return build_migration(run_stack(PROJECT_DIR, settings), settings)
