"""A fixed wait inside a deployment, for cloud state that is eventually consistent.

A new Azure custom role definition is not assignable everywhere at once: an assignment made
right after it can fail with `RoleDefinitionDoesNotExist` while the definition replicates
(Microsoft's troubleshooting guide for Azure RBAC). azure-native does not wait for that, so
the assignment waits for a `Pause` that starts once the definition exists. Likewise a newly
enabled Google API can answer 403 SERVICE_DISABLED for a while: what a Cloud Run pool
creates waits for a pause after its APIs.

A pause sleeps only when it is created or what it waits after is replaced: a rerun of an
unchanged stack never waits.

The provider is a Pulumi dynamic provider, pickled by reference into the state of every
pause: its module path and class name (`pushpools.components.pause.PauseProvider`) never
change.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult
from pulumi.dynamic import Resource as DynamicResource


class PauseProvider(ResourceProvider):
    """Sleeps on create, and again whenever what it waits after is replaced."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        time.sleep(float(props["seconds"]))
        return CreateResult(id_=str(props["after"]), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A new definition needs its own wait; a new length alone does not.
        replaced = olds.get("after") != news.get("after")
        return DiffResult(
            changes=olds != news,
            replaces=["after"] if replaced else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Pause(DynamicResource, module="pushpools", name="Pause"):
    """Done `seconds` after `after` (a resource's ID, or several joined) exists; depend on it
    to wait."""

    after: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        after: pulumi.Input[str],
        seconds: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(PauseProvider(), resource_name, {"after": after, "seconds": seconds}, opts)
