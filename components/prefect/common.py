"""What the block and work-pool resources share: connection inputs and property helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc

from pushpools.components.prefect.connection import normalize_api_url

CONNECTION_PROPS = ("api_url", "api_key", "auth_string")
SECRET_CONNECTION_PROPS = ["api_key", "auth_string"]


@dataclass(frozen=True)
class ConnectionArgs:
    """Where the resources register, as resource inputs.

    The key and the auth string travel as Pulumi secrets: encrypted in state, shown as
    [secret], never in plain text in any output.
    """

    api_url: pulumi.Input[str]
    api_key: pulumi.Input[str] | None = None
    """Prefect Cloud API key."""
    auth_string: pulumi.Input[str] | None = None
    """`user:password` for a self-hosted server started with an auth string."""

    def as_props(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "api_key": None if self.api_key is None else pulumi.Output.secret(self.api_key),
            "auth_string": None
            if self.auth_string is None
            else pulumi.Output.secret(self.auth_string),
        }


def prefect_object_options(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """The options every Prefect object resource needs, merged with the caller's."""
    # Names are unique in Prefect: a replacement (also a forced `--replace`) must delete
    # the old object before it creates the new one of the same name.
    defaults = pulumi.ResourceOptions(delete_before_replace=True)
    # The connection's key and auth string stay secret in the outputs whatever the caller says.
    secrecy = pulumi.ResourceOptions(additional_secret_outputs=SECRET_CONNECTION_PROPS)
    return pulumi.ResourceOptions.merge(defaults, opts).merge(secrecy)


def has_unknowns(value: Any) -> bool:
    """True while a preview has not computed a value yet."""
    if value == rpc.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return False


def endpoint_changed(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Another server or workspace: the objects there are other objects."""
    return normalize_api_url(str(olds.get("api_url", ""))) != normalize_api_url(
        str(news.get("api_url", ""))
    )


def credentials_changed(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """A rotated key is an update (no write to Prefect) so that state holds the new one:
    refresh and destroy read the key from state."""
    return any((olds.get(k) or None) != (news.get(k) or None) for k in SECRET_CONNECTION_PROPS)


def connection_outputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: props.get(k) for k in CONNECTION_PROPS}


def engine_values(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as the user wrote them: the engine's wire format carries every number as a
    float (`1024` arrives as `1024.0`), which would reach templates and limits as floats."""
    return _integral_floats_as_ints(props)


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value
