"""Realistic, deterministic provider outputs for the offline engine.

Each cloud's module maps resource type tokens (and invoke tokens) to functions that
compute what that provider would return. A type or invoke no module knows is an error:
a mock that answered `{}` would let a program pass that the real provider would fail.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from typing import Any

from pulumi.runtime import mocks

from pushpools.components.config.pool_types import KINDS

ResourceMock = Callable[[mocks.MockResourceArgs], tuple[str, dict[str, Any]]]
CallMock = Callable[[mocks.MockCallArgs], dict[str, Any]]

# type-token package -> module holding RESOURCES and CALLS for it: each pool kind's (its
# registry row), and pushpools' own Prefect resources (Pulumi dynamic providers).
_MODULES = {
    **{package: module for kind in KINDS for package, module in kind.provider_mocks.items()},
    "pulumi-python": "pushpools_tools.provider_mocks.dynamic",
}


class UnmockedError(Exception):
    """The program used a resource type or invoke that no provider mock knows."""


class ProviderMocks(mocks.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if not args.custom:  # component resources have no provider
            return "", {}
        return _module_for(args.typ).RESOURCES[_known(args.typ, "RESOURCES")](args)

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        # No check failures: an empty list, since the SDK's mock monitor iterates it.
        return _module_for(args.token).CALLS[_known(args.token, "CALLS")](args), []


def _module_for(token: str) -> Any:
    package = token.split(":", 1)[0]
    if token.startswith("pulumi:providers:"):  # an explicit provider: its package's module
        package = token.removeprefix("pulumi:providers:")
    if package not in _MODULES:
        raise UnmockedError(f"no provider mock for package {package!r} ({token})")
    return importlib.import_module(_MODULES[package])


def _known(token: str, table: str) -> str:
    if token not in getattr(_module_for(token), table):
        raise UnmockedError(f"no provider mock for {token}")
    return token


def stable_id(*parts: str, length: int = 12) -> str:
    """A short ID that is the same on every run for the same inputs."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def stable_number(*parts: str, digits: int = 12) -> str:
    return str(int(stable_id(*parts, length=16), 16))[:digits]
