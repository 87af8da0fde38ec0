"""`pushpools migrate`: bring what `prefect work-pool create --provision-infra` made into a
stack's Pulumi state, pool by pool, with the pool working throughout.

The stack program runs on the offline engine (as `pushpools plan` runs it), so the import
file names exactly the types, logical names and parents the program declares: after
`pulumi import --file`, the first `pulumi up` finds every imported resource where the
program expects it and only updates it in place. Keys are not imported (they cannot be
read back): `pulumi up` creates new ones and the adopted credentials block gets them in
place, so a valid key is in the block at every moment.

The file follows `pulumi import`'s documented bulk format ("Bulk import operations" in the
Pulumi docs; `importFile` / `importSpec` in pulumi/pulumi pkg/cmd/pulumi/operations/
import.go): `nameTable` (name -> URN of a resource already in state) and `resources`, each
with `type`, `name`, `logicalName`, and `id` or `component: true`, plus `parent` and
`provider` as names from the table or from the file itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pushpools.components.config import Cloud, PoolConfig
from pushpools.components.naming import Naming
from pushpools_tools.engine import STACK_TYPE, ProgramRun, Registration, in_creation_order
from pushpools_tools.migrate_model import Action, CloudPlan, Decision, Declared, Lookup, Step
from pushpools_tools.stackfile import StackSettings

PROVIDER_PREFIX = "pulumi:providers:"
PREFECT_PREFIX = "pulumi-python:dynamic/prefect:"
DEFAULT_IMPORT_FILE = "pushpools-import.json"


class MigrationError(Exception):
    """The stack config cannot be migrated as it stands; `problems` says why, by key."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class MigrateOptions:
    helper_vpc: bool = False
    """ECS pools: import the VPC the helper made (accounts without a default VPC)."""
    pools: tuple[str, ...] = ()
    """Only these pools (default: every pool of the stack)."""


@dataclass
class PoolMigration:
    pool: PoolConfig
    component: Declared
    providers: list[Declared]
    """Explicit providers: created by a targeted `pulumi up` before the import."""
    decisions: list[tuple[Declared, Decision]]
    prefect: list[str]
    cloud: CloudPlan

    def with_action(self, action: Action) -> list[tuple[Declared, Decision]]:
        return [(r, d) for r, d in self.decisions if d.action is action]

    @property
    def component_in_state_first(self) -> bool:
        """Pools with explicit providers get their component into state before the import
        (the providers are its children)."""
        return bool(self.providers)


@dataclass
class Migration:
    project: str
    stack: str
    pools: list[PoolMigration] = field(default_factory=list)

    def lookups(self) -> list[Lookup]:
        seen: dict[str, Lookup] = {}
        for pool in self.pools:
            for _, decision in pool.decisions:
                for lookup in decision.lookups:
                    seen.setdefault(lookup.placeholder, lookup)
        return list(seen.values())


def build_migration(
    run: ProgramRun, settings: StackSettings, options: MigrateOptions = MigrateOptions()
) -> Migration:
    """From the program's declarations to what happens to each of the helper's objects."""
    raw_pools = json.loads(settings.config.get("pushpools:pools", "[]"))
    pools = [PoolConfig.model_validate(p) for p in raw_pools]
    registration = run.outputs.get("prefect_registration") or {}
    registering = bool(registration.get("enabled"))
    problems = _problems(pools, options, registering=registering)
    if problems:
        raise MigrationError(problems)
    urns = _real_urns(run)
    by_parent: dict[str | None, list[Registration]] = {}
    # The order `pulumi up` could create them in, the same every run: the import file
    # and the steps must not change between two runs of one stack.
    for resource in in_creation_order(run.resources):
        by_parent.setdefault(resource.parent, []).append(resource)
    migration = Migration(run.project, run.stack)
    wanted = set(options.pools) or {p.name for p in pools}
    for pool, raw_pool in zip(pools, raw_pools, strict=True):
        if pool.name not in wanted:
            continue
        component = next(
            r for r in run.resources if r.name == pool.name and r.type.startswith("pushpools:")
        )
        children = [Declared(r, pool, urns[r.urn]) for r in by_parent.get(component.urn, [])]
        cloud_resources = [
            c
            for c in children
            if not c.type.startswith(PROVIDER_PREFIX) and not c.type.startswith(PREFECT_PREFIX)
        ]
        rules = _rules(pool.kind.cloud, raw_pool)
        decisions = rules.decide(cloud_resources, options)
        migration.pools.append(
            PoolMigration(
                pool=pool,
                component=Declared(component, pool, urns[component.urn]),
                providers=[c for c in children if c.type.startswith(PROVIDER_PREFIX)],
                decisions=[(c, decisions[c.urn]) for c in cloud_resources],
                prefect=_prefect_side(pool, registering),
                cloud=rules.plan(pool, options),
            )
        )
    return migration


@dataclass(frozen=True)
class _CloudRules:
    decide: Callable[[list[Declared], MigrateOptions], dict[str, Decision]]
    plan: Callable[[PoolConfig, MigrateOptions], CloudPlan]


def _gcp() -> _CloudRules:
    from pushpools_tools import migrate_gcp

    return _CloudRules(
        lambda resources, _: migrate_gcp.decide_all(resources),
        lambda pool, _: migrate_gcp.plan(pool),
    )


def _aws() -> _CloudRules:
    from pushpools_tools import migrate_aws

    return _CloudRules(
        lambda resources, o: migrate_aws.decide_all(resources, helper_vpc=o.helper_vpc),
        lambda pool, o: migrate_aws.plan(pool, helper_vpc=o.helper_vpc),
    )


def _azure(raw_pool: dict[str, Any]) -> _CloudRules:
    from pushpools_tools import migrate_azure

    # Names are resolved in the config; only the stack file says whether the registry's
    # name was given (the helper's, to import) or made up by pushpools.
    given = bool(((raw_pool.get("azure") or {}).get("names") or {}).get("registry"))
    return _CloudRules(
        lambda resources, _: migrate_azure.decide_all(resources, registry_given=given),
        lambda pool, _: migrate_azure.plan(pool, registry_given=given),
    )


def _prefect_only() -> _CloudRules:
    def decide(resources: list[Declared], _: MigrateOptions) -> dict[str, Decision]:
        if resources:
            raise LookupError(resources[0].type)
        return {}

    return _CloudRules(decide, lambda pool, _: CloudPlan())


def _rules(cloud: Cloud, raw_pool: dict[str, Any]) -> _CloudRules:
    """A cloud's rules; each cloud's module loads only when a stack uses it."""
    if cloud is Cloud.GCP:
        return _gcp()
    if cloud is Cloud.AWS:
        return _aws()
    if cloud is Cloud.AZURE:
        return _azure(raw_pool)
    return _prefect_only()


_CLOUDS_WITH_RESOURCES = (Cloud.GCP, Cloud.AWS, Cloud.AZURE)
_HELPER_EXAMPLES = {
    Cloud.GCP: "the service account prefect-cloud-run",
    Cloud.AWS: "the IAM user prefect-ecs-user",
    Cloud.AZURE: "the app registration prefect-aci-push-pool-app",
}


def _problems(pools: list[PoolConfig], options: MigrateOptions, *, registering: bool) -> list[str]:
    problems = []
    names = [p.name for p in pools]
    for name in options.pools:
        if name not in names:
            problems.append(
                f"--pool {name!r}: the stack has no such pool; allowed: {', '.join(names)}"
            )
    for index, pool in enumerate(pools):
        if options.pools and pool.name not in options.pools:
            continue
        if pool.kind.cloud in _CLOUDS_WITH_RESOURCES and pool.naming is not Naming.HELPER:
            problems.append(
                f"pushpools:pools[{index}].naming: {pool.naming.value!r}; migrating needs "
                "'helper': the helper's objects carry its fixed names (e.g. "
                f"{_HELPER_EXAMPLES[pool.kind.cloud]}), which `naming: helper` gives (names "
                f"set under pushpools:pools[{index}].{pool.kind.cloud.value}.names still win)"
            )
        if registering and not pool.prefect.adopt_existing:
            problems.append(
                f"pushpools:pools[{index}].prefect.adopt_existing: false; migrating needs true, "
                f"so that the first `pulumi up` takes over the helper's work pool {pool.name!r}"
                + (f" and block {pool.block_name!r}" if pool.block_name else "")
                + " in place instead of failing on them"
            )
        if options.helper_vpc and pool.kind.cloud is Cloud.AWS:
            from pushpools_tools.migrate_aws import helper_vpc_problems

            problems += helper_vpc_problems(pool, index)
    return problems


def _real_urns(run: ProgramRun) -> dict[str, str]:
    """Offline URN -> the URN the real engine gives: the parent's full qualified type,
    and nothing of the root stack."""
    by_urn = {r.urn: r for r in run.resources}
    qualified: dict[str, str] = {}

    def qualified_type(resource: Registration) -> str:
        if resource.urn not in qualified:
            parent = by_urn.get(resource.parent or "")
            prefix = ""
            if parent is not None and parent.type != STACK_TYPE:
                prefix = qualified_type(parent) + "$"
            qualified[resource.urn] = prefix + resource.type
        return qualified[resource.urn]

    return {
        r.urn: f"urn:pulumi:{run.stack}::{run.project}::{qualified_type(r)}::{r.name}"
        for r in run.resources
        if r.type != STACK_TYPE
    }


def _prefect_side(pool: PoolConfig, registering: bool) -> list[str]:
    block = pool.block_name
    if not registering:
        lines = [
            "Prefect registration is off for this stack: nothing changes in Prefect at `pulumi up`."
        ]
        if block:
            lines.append(
                f"Update the block {pool.kind.block_type_slug}/{block} with its data from the "
                "stack output `credentials_blocks` yourself before deleting any old key."
            )
        return lines
    lines = []
    if block:
        lines.append(
            f"block {pool.kind.block_type_slug}/{block}: adopted in place (adopt_existing); "
            "`pulumi up` writes the stack's credentials (a new key) into it. The block keeps "
            "its ID, so the pool's reference to it stays valid throughout."
        )
    lines.append(
        f"work pool {pool.name!r}: adopted in place (adopt_existing); `pulumi up` rewrites "
        "its base job template defaults"
        + (f" (the {pool.kind.credentials_variable} reference and" if block else " (")
        + " the infrastructure pushpools manages); the pool's other settings are kept."
    )
    return lines


def import_file(migration: Migration) -> dict[str, Any]:
    """The `pulumi import --file` document, placeholders and all."""
    name_table: dict[str, str] = {}
    resources: list[dict[str, Any]] = []
    for pool in migration.pools:
        imports = pool.with_action(Action.IMPORT)
        if not imports:
            continue
        component = pool.component
        if pool.component_in_state_first:
            name_table[component.name] = component.urn
            for provider in pool.providers:
                name_table[provider.name] = provider.urn
        else:
            resources.append(
                {
                    "type": component.type,
                    "name": component.name,
                    "logicalName": component.name,
                    "component": True,
                }
            )
        for resource, decision in imports:
            entry: dict[str, Any] = {
                "type": resource.type,
                "name": resource.name,
                "logicalName": resource.name,
                "id": decision.import_id,
                "parent": component.name,
            }
            provider = _explicit_provider(resource, pool)
            if provider is not None:
                entry["provider"] = provider.name
            resources.append(entry)
    names = [r["name"] for r in resources] + list(name_table)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MigrationError(
            [f"the import file would name {duplicates[0]!r} twice: rename one of the pools"]
        )
    document: dict[str, Any] = {"resources": resources}
    if name_table:
        document["nameTable"] = name_table
    return document


def _explicit_provider(resource: Declared, pool: PoolMigration) -> Declared | None:
    """The pool's provider of this resource's package, if the pool declares one."""
    package = resource.type.split(":", 1)[0]
    for provider in pool.providers:
        if provider.type == f"{PROVIDER_PREFIX}{package}":
            return provider
    return None


def render(migration: Migration, file_name: str, *, written: bool) -> str:
    """The dry run: per pool, what is imported, created, replaced and left behind; then
    the commands, in order."""
    lines = [
        f"pushpools migrate: stack {migration.stack!r} of project {migration.project!r}",
        "From `prefect work-pool create --provision-infra` to this stack, pool by pool.",
        "Offline: nothing was contacted; the helper's objects are assumed to exist under "
        "the names the stack config gives.",
    ]
    for pool in migration.pools:
        lines += ["", f"Pool {pool.pool.name!r} ({pool.pool.type.value})"]
        lines += _section("Imported into state (then updated in place)", pool, Action.IMPORT)
        lines += _section(
            "Created by `pulumi up` (the helper made nothing like it)", pool, Action.CREATE
        )
        lines += _section(
            "Keys: not imported; `pulumi up` creates new ones, the block gets them in place",
            pool,
            Action.NEW_KEY,
        )
        lines += _section(
            "Replaced: the helper's is deleted right before `pulumi up`", pool, Action.REPLACE
        )
        lines += ["  Prefect:"] + [f"    {line}" for line in pool.prefect]
        left = [s for s in pool.cloud.after_up]
        if left:
            lines.append("  Left behind, removed once the pool is verified working:")
            lines += [f"    - {step.what}" for step in left]
        lines += [f"  Note: {note}" for note in pool.cloud.notes]
    lines += ["", *_commands(migration, file_name, written=written)]
    return "\n".join(lines) + "\n"


def _section(title: str, pool: PoolMigration, action: Action) -> list[str]:
    chosen = pool.with_action(action)
    if not chosen:
        return []
    lines = [f"  {title}:"]
    for resource, decision in chosen:
        lines.append(f"    {resource.type}  {resource.name}")
        if decision.import_id is not None:
            lines.append(f"        id: {decision.import_id}")
        if decision.why:
            lines.append(f"        why: {decision.why}")
    return lines


def _commands(migration: Migration, file_name: str, *, written: bool) -> list[str]:
    stack = f"--stack {migration.stack}"
    steps: list[Step] = []
    lookups = migration.lookups()
    if lookups:
        steps.append(
            Step(
                f"Replace each placeholder in {file_name} with what its command prints",
                tuple(f"{lookup.placeholder}: {lookup.command}" for lookup in lookups),
            )
        )
    targets = [
        target
        for pool in migration.pools
        if pool.component_in_state_first and pool.with_action(Action.IMPORT)
        for target in (pool.component.urn, *(p.urn for p in pool.providers))
    ]
    if targets:
        steps.append(
            Step(
                "Put the pools' explicit providers (and their components) into state first: "
                "this touches nothing in any cloud",
                (f"pulumi up {stack} " + " ".join(f"--target '{t}'" for t in targets),),
            )
        )
    for pool in migration.pools:
        steps += pool.cloud.before_import
    steps.append(
        Step(
            "Import: the program already declares these resources, so no code is generated, "
            "and they are not protected, like everything else the stack made",
            (f"pulumi import {stack} --file {file_name} --generate-code=false --protect=false",),
        )
    )
    steps.append(
        Step(
            "Review: imported resources are updated in place (tags, descriptions, narrower "
            "grants); keys and what the helper lacked are created; nothing imported is "
            "replaced",
            (f"pulumi preview {stack} --diff",),
        )
    )
    for pool in migration.pools:
        steps += pool.cloud.before_up
    steps.append(Step("Apply", (f"pulumi up {stack}",)))
    steps.append(
        Step(
            "Verify each pool: run a deployment on it and watch it finish",
            ("prefect deployment run '<FLOW>/<DEPLOYMENT>'",),
        )
    )
    for pool in migration.pools:
        steps += [
            Step(f"[{pool.pool.name}] {step.what}", step.commands) for step in pool.cloud.after_up
        ]
    header = (
        f"Wrote {file_name}. Then, in order:"
        if written
        else f"Dry run: nothing written. Without --dry-run, {file_name} is written. Then, in order:"
    )
    lines = [header]
    for number, step in enumerate(steps, start=1):
        lines.append(f"{number}. {step.what}:")
        lines += [f"     {command}" for command in step.commands]
    return lines
