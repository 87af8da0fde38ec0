"""The offline plan: the real stack program on the offline engine, rendered for review."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import runpy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pushpools.components.loader import ConfigError
from pushpools_tools.engine import (
    STACK_TYPE,
    ProgramRun,
    in_creation_order,
    is_secret,
    reveal,
    run_program,
)
from pushpools_tools.stack_yaml import ReadAs
from pushpools_tools.stackfile import StackSettings

# Per-pool outputs the "To register in Prefect" section shows in full.
_SHOWN_PER_POOL = ("pools", "prefect_yaml")
SECRET = "[secret]"  # noqa: S105 - the mask, not a password
DIGEST_KEY_ENV = "PUSHPOOLS_PLAN_DIGEST_KEY"
"""With this set, each mask carries a keyed digest of the secret (`[secret 1a2b...]`), so
two plans made with the same key show which secrets changed, and nothing else: without
the key (a throwaway one, when `pushpools plan --compare-to` sets it) a digest says
nothing about the value, even a short one."""


def run_stack(
    directory: Path, settings: StackSettings, record: ProgramRun | None = None
) -> ProgramRun:
    """Run the project's `__main__.py` exactly as `pulumi up` would, offline.

    A ConfigError lists the problems found in reading the stack file (a misspelt
    `pushpools` namespace) with the config check's own, each problem about a value that
    is not what was written (`010` is 8) saying how it was written and read."""
    main = str(directory / "__main__.py")
    if settings.problems:
        # Refused whatever the rest says; the config check runs alone, so that its
        # problems show in this pass too and nothing is declared.
        program = _config_check()
    else:
        program = lambda: runpy.run_path(main, run_name="__main__")  # noqa: E731
    try:
        run = run_program(
            program,
            project=settings.project,
            stack=settings.stack,
            config=settings.config,
            secret_keys=settings.secret_keys,
            record=record,
        )
    except ConfigError as error:
        # The stack program finds a misspelt namespace too (for `pulumi up`); the reader's
        # own problem about that key says on which line it is, so it is the one shown.
        keys = tuple(f"{p.split(': ', 1)[0]}: " for p in settings.problems)
        program_problems = [p for p in error.problems if not p.startswith(keys)]
        raise ConfigError(
            [*settings.problems, *(_annotated(p, settings.written) for p in program_problems)]
        ) from None
    if settings.problems:
        raise ConfigError(list(settings.problems))
    return run


def _config_check() -> Callable[[], object]:
    """The stack program's config check alone (the one loader), or where a program has
    none (a revision from before it), nothing."""
    try:
        from pushpools.components.loader import load_stack
    except ImportError:
        return lambda: None
    return load_stack


def _annotated(problem: str, written: Mapping[str, ReadAs]) -> str:
    key, _, text = problem.partition(": ")
    read_as = written.get(key)
    if read_as is None or not any(_shows(text, form) for form in read_as.shown):
        return problem
    return f"{problem} ({read_as.note})"


def _shows(text: str, form: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(form)}(?![\w.])", text) is not None


def masked(value: Any, digest_key: bytes | None = None) -> Any:
    """The value with every secret replaced by "[secret]" (with `digest_key`, by
    "[secret <keyed digest>]")."""
    if is_secret(value):
        if digest_key is None:
            return SECRET
        plain = json.dumps(reveal(value), sort_keys=True, default=str).encode()
        return f"[secret {hmac.new(digest_key, plain, hashlib.sha256).hexdigest()[:16]}]"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire has only doubles: 14, as the stack file says, not 14.0
    if isinstance(value, dict):
        return {k: masked(v, digest_key) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, digest_key) for v in value]
    return value


def _digest_key() -> bytes | None:
    key = os.environ.get(DIGEST_KEY_ENV)
    return key.encode() if key else None


def plan_document(run: ProgramRun, settings: StackSettings | None = None) -> dict[str, Any]:
    """The machine-readable plan (`pushpools plan --json`), secrets masked."""
    stack_urns = {r.urn for r in run.resources if r.type == STACK_TYPE}
    key = _digest_key()
    document = {
        "stack": run.stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": None
                if r.parent is None
                or r.parent in stack_urns
                or r.parent.endswith(f"::{STACK_TYPE}::{run.project}-{run.stack}")
                else r.parent,
                "inputs": masked(r.inputs, key),
                "dependencies": list(r.dependencies),
                # What decides how `pulumi up` replaces or destroys it; only where set.
                **({"options": r.options} if r.options else {}),
            }
            for r in in_creation_order(run.resources)
        ],
        "outputs": masked(run.outputs, key),
    }
    if settings is not None and settings.environments:
        document["environments"] = {
            "imports": list(settings.environments),
            "secrets_assumed_from_them": list(settings.from_environments),
        }
    return document


def render_text(run: ProgramRun, settings: StackSettings | None = None) -> str:
    """A reviewer's view: per pool, every resource with its inputs, then Prefect's side."""
    document = plan_document(run)
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in document["resources"]:
        children.setdefault(resource["parent"], []).append(resource)
    lines = [
        f"pushpools offline plan: stack {run.stack!r} of project {run.project!r}",
        "Offline: no cloud, no Prefect and no Pulumi CLI were contacted; provider outputs are",
        "simulated, deterministic stand-ins. `pulumi preview` against real accounts is the",
        "final word. Values shown as [secret] are Pulumi secrets.",
        *_environment_lines(settings),
        "",
        f"Resources to create: {sum(1 for r in run.resources if r.custom)}",
    ]
    # The pools in the order the stack file lists them (the `pools` output keeps it).
    pools = document["outputs"].get("pools")
    listed = list(pools) if isinstance(pools, dict) else []
    roots = sorted(
        children.get(None, []),
        key=lambda r: listed.index(r["name"]) if r["name"] in listed else len(listed),
    )
    for root in roots:
        _render_resource(root, children, lines, depth=0)
    lines += ["", "Stack outputs:"]
    for name, value in document["outputs"].items():
        if name in _SHOWN_PER_POOL and isinstance(value, dict):
            pools = ", ".join(value) or "none"
            lines.append(f"  {name}: for {pools} (shown per pool below)")
        else:
            lines += _key_value("  ", name, value)
    lines += _render_prefect(document["outputs"])
    lines += _unchecked_prerequisites(run)
    return "\n".join(lines) + "\n"


# What each provider needs from the machine that runs `pulumi up`, which no offline plan
# can see: by the package of the resource types a stack declares.
_PREREQUISITES = {
    "gcp": "Google Cloud credentials (gcloud auth application-default login, or a service "
    "account) with rights in each pool's project",
    "aws": "AWS credentials, and a region for the provider (aws:region or AWS_REGION), "
    "with rights in the pools' account",
    "azure-native": "Azure credentials (az login, or a service principal) with rights in "
    "each pool's subscription, and its resource providers registered",
    "azuread": "Entra ID rights to create app registrations in the tenant",
    "pulumi-python": "the Prefect API reachable from the machine that runs pulumi up",
}


def _unchecked_prerequisites(run: ProgramRun) -> list[str]:
    packages = {r.type.split(":", 1)[0] for r in run.resources if r.custom}
    needed = [text for package, text in _PREREQUISITES.items() if package in packages]
    if not needed:
        return []
    return ["", "Not checked offline (pulumi preview checks them):"] + [
        f"  - {text}" for text in needed
    ]


def _environment_lines(settings: StackSettings | None) -> list[str]:
    if settings is None or not settings.environments:
        return []
    keys = ", ".join(settings.from_environments) or "none"
    return [
        f"Pulumi ESC environments imported: {', '.join(settings.environments)}. Offline their "
        f"values are unknown; taken as secrets they provide: {keys}.",
    ]


def _render_resource(
    resource: dict[str, Any],
    children: dict[str | None, list[dict[str, Any]]],
    lines: list[str],
    depth: int,
) -> None:
    pad = "  " * (depth + 1)
    lines.append("")
    lines.append(f"{pad}+ {resource['type']}  {resource['name']}")
    for option, value in resource.get("options", {}).items():
        lines += _key_value(f"{pad}    (option) ", option, value)
    for key, value in sorted(resource["inputs"].items()):
        # `__provider` is a dynamic resource's pickled provider code, not a setting.
        if value in (None, {}, []) or key == "__provider":
            continue
        lines += _key_value(f"{pad}    ", key, value)
    for child in children.get(resource["urn"], []):
        _render_resource(child, children, lines, depth + 1)


def _render_prefect(outputs: dict[str, Any]) -> list[str]:
    pools = outputs.get("pools")
    if not isinstance(pools, dict):
        return []
    lines = [
        "",
        *_registration_line(outputs.get("prefect_registration")),
        "",
        "To register in Prefect (per pool):",
    ]
    for name, pool in pools.items():
        lines.append(f"  work pool {name!r} of type {pool['type']!r}")
        block = pool.get("credentials_block")
        if block:
            lines.append(
                f"    credentials block {block['type_slug']}/{block['name']} (data: {SECRET}),"
                f" referenced by the template variable {block['variable']!r}"
            )
        for variable, value in sorted((pool.get("template_defaults") or {}).items()):
            lines += _key_value("    ", f"template default {variable}", value)
        if pool.get("image_namespace"):
            lines.append(f"    flow images: {pool['image_namespace']}")
        snippet = (outputs.get("prefect_yaml") or {}).get(name)
        if snippet:
            lines.append("    prefect.yaml, in a deployment:")
            lines += [f"      {line}" for line in snippet.splitlines()]
    return lines


def _registration_line(registration: Any) -> list[str]:
    if not isinstance(registration, dict):
        return []
    if registration.get("enabled"):
        return [
            f"Registration in Prefect: ON, at {registration['api_url']} "
            f"(from {registration['source']}): `pulumi up` creates the blocks and work pools "
            "below there, `pulumi destroy` deletes them."
        ]
    return [
        f"Registration in Prefect: OFF ({registration['source']}): nothing is created in "
        "Prefect; the stack outputs `pools` and `credentials_blocks` carry what to register."
    ]


def _key_value(pad: str, key: str, value: Any, width: int = 100) -> list[str]:
    """`key: value` on one line; a long value (a policy document, a subnet list) in full,
    pretty-printed below its key: a reviewer must see all of it, never a cut."""
    text = _compact(value)
    if len(pad) + len(key) + len(text) + 2 <= width:
        return [f"{pad}{key}: {text}"]
    if isinstance(value, str):
        try:
            value = json.loads(value)  # policy documents arrive as JSON text
        except json.JSONDecodeError:
            return [f"{pad}{key}: {value}"]
    pretty = json.dumps(value, indent=2, sort_keys=True)
    return [f"{pad}{key}:", *(f"{pad}  {line}" for line in pretty.splitlines())]


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
