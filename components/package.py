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
from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult

from pushpools.components.aws.pool import EcsPushPool
from pushpools.components.azure.pool import AciPushPool
from pushpools.components.gcp.pool import CloudRunPushPool
from pushpools.components.managed.pool import ManagedPool
from pushpools.components.modal.pool import ModalPushPool
from pushpools.components.pool_component import PACKAGE, PoolComponent, serving_other_languages

COMPONENTS: list[type[PoolComponent]] = [
    CloudRunPushPool,
    EcsPushPool,
    AciPushPool,
    ModalPushPool,
    ManagedPool,
]
SECRET_OUTPUTS = frozenset({"credentialsBlock"})
"""Outputs that hold a credential: marked secret in the schema, so every SDK treats them so."""


class PushpoolsProvider(ComponentProvider):
    """The host's provider, with the schema finished where inference stops short: secret
    outputs marked secret, inherited outputs described, descriptions on one line each."""

    def __init__(self, version: str = "0.0.0") -> None:
        super().__init__(list(COMPONENTS), PACKAGE, version=version)
        schema = json.loads(self.schema or "{}")
        base_docs = _docstrings(PoolComponent)
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
