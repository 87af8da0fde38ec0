"""Driving the pack exactly as the Pulumi CLI does, minus the CLI.

The CLI talks to the pack over gRPC (`Analyze` per resource, `AnalyzeStack` once); the
pack's side of that is `pulumi_policy`'s analyzer servicer. Tests build the same requests
the engine sends (properties as a protobuf Struct under wire names, secrets wrapped in
Pulumi's secret signature, unknowns as its sentinels) and hand them to that servicer
(a private class of pulumi_policy: the public `PolicyPack` would start a server).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from pushpools_policy.common import MASKED
from pushpools_policy.pack import PACK_NAME, build_policies

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's "unknown during preview"


def wire(value: Any) -> Any:
    """A plan value as the engine marshals it: each masked secret becomes a secret (with a
    stand-in value: the plan never holds the real one)."""
    if value == MASKED:
        return {SIG: SECRET_SIG, "value": "stand-in secret value"}
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(wire(props))
    return struct


def servicer(config: dict[str, dict[str, Any]] | None = None) -> Any:
    analyzer = _PolicyAnalyzerServicer(
        PACK_NAME, "0.1.0", build_policies(), EnforcementLevel.ADVISORY
    )
    if config:
        request = proto.ConfigureAnalyzerRequest()
        for policy, properties in config.items():
            request.policyConfig[policy].properties.update(properties)
            request.policyConfig[policy].enforcementLevel = proto.MANDATORY
        analyzer.Configure(request, None)
    return analyzer


def analyze(resource: dict[str, Any], analyzer: Any = None) -> list[tuple[str, str]]:
    """(policy name, message) of each violation `Analyze` reports for one resource."""
    request = proto.AnalyzeRequest(
        type=resource["type"],
        properties=_struct(resource["inputs"]),
        urn=resource.get("urn", ""),
        name=resource["name"],
    )
    response = (analyzer or servicer()).Analyze(request, None)
    return [(d.policyName, d.message) for d in response.diagnostics]


def analyze_stack(
    resources: list[dict[str, Any]], analyzer: Any = None
) -> list[tuple[str, str, str]]:
    """(policy name, urn, message) of each violation `AnalyzeStack` reports. Each resource's
    `outputs` (or, where a test has none, its `inputs`) are its properties, as after an
    update."""
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=r["type"],
                properties=_struct(r.get("outputs", r["inputs"])),
                urn=r.get("urn", ""),
                name=r["name"],
            )
            for r in resources
        ]
    )
    response = (analyzer or servicer()).AnalyzeStack(request, None)
    return [(d.policyName, d.urn, d.message) for d in response.diagnostics]
