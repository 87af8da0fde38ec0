"""The cloud components as a Pulumi package, for programs in every Pulumi language.

`provider/__main__.py` serves this through Pulumi's Python component provider host, so that
`pulumi package add <repository>/provider` generates an SDK for TypeScript, Go, C#, Java or
YAML with the same args and outputs as the Python classes.

The Prefect registration is not served: its resources are Pulumi dynamic providers, which do
not work inside components served to other languages (pulumi/pulumi#5455).
"""

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult

from pushpools.components.config.pool_types import KINDS
from pushpools.components.config.stack import PoolConfig, StackConfig
from pushpools.components.pool_args import nested_model
from pushpools.components.pool_component import PACKAGE, PoolComponent, serving_other_languages

COMPONENTS: list[type[PoolComponent]] = [kind.component_class() for kind in KINDS]
SECRET_OUTPUTS = frozenset({"credentialsBlock"})
"""Outputs that hold a credential: marked secret in the schema, so every SDK treats them so."""


class PushpoolsProvider(ComponentProvider):
    """The host's provider, with the schema finished where inference stops short: secret
    outputs marked secret, inherited outputs described, descriptions on one line each."""

    def __init__(self, version: str = "0.0.0") -> None:
        super().__init__(list(COMPONENTS), PACKAGE, version=version)
        schema = json.loads(self.schema or "{}")
        base_docs = _docstrings(PoolComponent)
        for component in COMPONENTS:
            # An arg means what its stack-config key means: its description lives once, on
            # the settings model's field.
            resource = schema["resources"][f"{PACKAGE}:index:{component.__name__}"]
            settings = next(k for k in KINDS if k.cloud is component.CLOUD).settings_model()
            _describe(schema, resource["inputProperties"], settings, _POOL_LEVEL)
        for resource in schema.get("resources", {}).values():
            for name, prop in resource.get("properties", {}).items():
                if "description" not in prop and name in base_docs:
                    prop["description"] = base_docs[name]
                if name in SECRET_OUTPUTS:
                    prop["secret"] = True
        _one_line_descriptions(schema)
        self.schema = json.dumps(schema)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        with serving_other_languages():
            return super().construct(name, resource_type, inputs, options)


_POOL_LEVEL = {
    "type": PoolConfig.model_fields["type"].description,
    "naming": PoolConfig.model_fields["naming"].description,
    "credentials_block_name": PoolConfig.model_fields["credentials_block_name"].description,
    "labels": StackConfig.model_fields["labels"].description,
}


def _describe(
    schema: dict[str, Any],
    properties: dict[str, Any],
    model: Any,
    others: Mapping[str, str | None] | None = None,
) -> None:
    """Give each property without a description its settings field's, nested types too."""
    for name, prop in properties.items():
        snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
        field = model.model_fields.get(snake)
        description = field.description if field is not None else (others or {}).get(snake)
        if description and not prop.get("description"):
            prop["description"] = description
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        nested = None if field is None else nested_model(field.annotation)
        if ref and nested is not None:
            nested_type = schema["types"][ref.removeprefix("#/types/")]
            _describe(schema, nested_type.get("properties", {}), nested)


def _docstrings(cls: type[Any]) -> dict[str, str]:
    """Schema name -> docstring of the class's own annotated attributes."""
    analyzer = Analyzer(PACKAGE)
    found = {}
    for attribute in cls.__annotations__:
        doc = analyzer.get_docstring(cls, attribute)
        if doc:
            camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), attribute)
            found[camel] = doc
    return found


def _one_line_descriptions(node: Any) -> None:
    """Docstrings wrap at 100 columns; a schema description is one paragraph."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = " ".join(value.split())
            else:
                _one_line_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            _one_line_descriptions(item)


def serve(args: list[str] | None = None) -> None:
    """Run the provider as a plugin: print its port, answer the engine over gRPC."""
    from pulumi.provider import main

    main(PushpoolsProvider(), sys.argv[1:] if args is None else args)
