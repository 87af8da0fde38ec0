"""The JSON Schema of a pushpools stack file (`stacks/Pulumi.<stack>.yaml`), from the models.

Editors that speak JSON Schema (VS Code's YAML extension and every other client of
yaml-language-server, JetBrains IDEs) complete and check a stack file with it; the program
still checks everything, including what a schema cannot say (names, regions, collisions
between pools, secrets the pools name).

The `pushpools:` keys are `StackConfig`'s JSON Schema, wrapped as Pulumi lays out a stack
file: a top-level `config:` mapping of `namespace:key`, where a value set with
`pulumi config set --secret` is an object `{secure: <ciphertext>}`. Draft 7, the newest
yaml-language-server supports.
"""

from __future__ import annotations

from typing import Any

from pushpools.components.config.errors import NAMESPACE
from pushpools.components.config.pool_types import KINDS
from pushpools.components.config.prefect import API_KEY, AUTH_STRING
from pushpools.components.config.stack import StackConfig

DRAFT = "http://json-schema.org/draft-07/schema#"
_DEFINITIONS = "#/definitions/"
_SECRET = {"$ref": f"{_DEFINITIONS}Secret"}
# Keys of other namespaces (`aws:region`, `gcp:project`, `pulumi:tags`): not ours to check.
_OTHER_NAMESPACE = f"^(?!{NAMESPACE}:)[^:]+:"
_SECRET_DESCRIPTIONS = {
    API_KEY: (
        "Prefect Cloud API key: `pulumi config set --secret pushpools:prefectApiKey <key>` "
        "(or PREFECT_API_KEY, or a Pulumi ESC environment)."
    ),
    AUTH_STRING: (
        "user:password of a self-hosted Prefect server started with "
        "PREFECT_SERVER_API_AUTH_STRING: `pulumi config set --secret "
        "pushpools:prefectAuthString <user:password>` (or PREFECT_API_AUTH_STRING)."
    ),
}


def stack_file_schema() -> dict[str, Any]:
    config = _maps_are_not_secrets(
        StackConfig.model_json_schema(ref_template=_DEFINITIONS + "{model}")
    )
    definitions = config.pop("$defs")
    definitions["Secret"] = {
        "type": "object",
        "description": (
            "A value set with `pulumi config set --secret`: ciphertext only the Pulumi CLI "
            "can decrypt."
        ),
        "properties": {"secure": {"type": "string"}},
        "required": ["secure"],
        "additionalProperties": False,
    }
    _require_the_section_of_each_type(definitions["PoolConfig"])
    properties: dict[str, Any] = {
        f"{NAMESPACE}:{key}": value for key, value in config["properties"].items()
    }
    for key, description in {**_SECRET_DESCRIPTIONS, **_default_named_secrets()}.items():
        properties[f"{NAMESPACE}:{key}"] = {**_SECRET, "description": description}
    config_section = {
        "type": "object",
        "description": "Config of the stack: `namespace:key` -> value.",
        "properties": properties,
        "patternProperties": {_OTHER_NAMESPACE: {}},
        # Any other key of ours is a secret a pool names (a Modal pool's own token keys).
        "additionalProperties": {
            **_SECRET,
            "description": (
                "A secret a pool names (e.g. its Modal token keys); always set with "
                "`pulumi config set --secret`."
            ),
        },
    }
    schema = {
        "description": (
            "stacks/Pulumi.<stack>.yaml: the pools under `config:` (docs/configuration.md). "
            "Generated from the config models by `python -m pushpools_tools.reference`."
        ),
        "type": "object",
        "properties": {
            "config": config_section,
            "environment": {
                "description": "Pulumi ESC environments the stack imports (or an inline one).",
            },
            "mainEnvironment": {
                "type": "string",
                "description": "The ESC environment that holds this stack's config.",
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
        },
        "additionalProperties": False,
        # The pools may come from an ESC environment; otherwise the file must list them.
        "if": {
            "not": {"anyOf": [{"required": ["environment"]}, {"required": ["mainEnvironment"]}]}
        },
        "then": {
            "required": ["config"],
            "properties": {"config": {"required": [f"{NAMESPACE}:pools"]}},
        },
        "definitions": definitions,
    }
    return {
        "$schema": DRAFT,
        "title": "Pulumi stack file of a pushpools project",
        **_without_titles(schema),
    }


def _require_the_section_of_each_type(pool: dict[str, Any]) -> None:
    """A pool's type decides its section: the one it takes (required unless every setting
    has a default), and no other."""
    sections = [kind.cloud.value for kind in KINDS]
    rules = []
    for kind in KINDS:
        own = kind.cloud.value
        then: dict[str, Any] = {
            "properties": {other: {"type": "null"} for other in sections if other != own}
        }
        if kind.creates_cloud_resources:
            then["required"] = [own]
            then["properties"][own] = {"type": "object"}
        rules.append(
            {
                "if": {
                    "properties": {"type": {"enum": [t.value for t in kind.types]}},
                    "required": ["type"],
                },
                "then": then,
            }
        )
    pool["allOf"] = rules


def _default_named_secrets() -> dict[str, str]:
    """The secret keys kinds read by default (Modal's `modalTokenId`, ...), described by
    the setting that names them."""
    found = {}
    for kind in KINDS:
        fields = kind.settings_model().model_fields if kind.secret_args else {}
        for setting in kind.secret_args.values():
            if "." in setting:
                continue  # in an optional section; by default Prefect's own keys
            found[str(fields[setting].default)] = (
                f"Read by a pool that leaves `{kind.cloud.value}.{setting}` at its default. "
                f"{fields[setting].description}"
            )
    return found


def _maps_are_not_secrets(node: Any) -> Any:
    """Pulumi reads `{secure: ...}` anywhere in a config value as a secret: a free-form map
    of ours (labels, env) holding just that is a secret where a setting belongs."""
    if isinstance(node, dict):
        found = {key: _maps_are_not_secrets(value) for key, value in node.items()}
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            found["not"] = _SECRET
        return found
    if isinstance(node, list):
        return [_maps_are_not_secrets(item) for item in node]
    return node


def _without_titles(node: Any) -> Any:
    """pydantic titles each field after its name ("Subscription Id"); editors show the
    description, which says more. (A property named `title` is a mapping, and stays.)"""
    if isinstance(node, dict):
        return {
            key: _without_titles(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_without_titles(item) for item in node]
    return node
