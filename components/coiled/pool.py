"""Coiled: a `coiled:push` pool (or a `coiled` worker pool) runs each flow on a Coiled VM.

Prefect's `--provision-infra` helper only stores a Coiled API token in a
`coiled-credentials` block (`{"api_token": ...}`, prefect-coiled's `CoiledCredentials`) and
points the template's `credentials` variable at it. The stack program reads the token from
secret stack config, so it is a Pulumi secret from the start; a new token set there
rotates it (the block is updated in place). Coiled's own cloud setup (`coiled setup
aws|gcp`) is not declared here yet: docs/coiled.md.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from pushpools.components.coiled.settings import CoiledSettings
from pushpools.components.config import Cloud, PoolType
from pushpools.components.pool_component import PoolComponent


class CoiledPushPoolArgs(TypedDict):
    """The `coiled` section of a Coiled pool in the stack config, with the same keys (each
    described by `CoiledSettings`), the pool-level keys, and the token itself, where the
    stack config names the secret key that holds it."""

    api_token: pulumi.Input[str]
    """Coiled API token (the stack program reads it from `token_key`)."""
    type: NotRequired[PoolType]
    """`coiled:push` (default) or `coiled` (a prefect-coiled worker polls the pool)."""
    credentials_block_name: NotRequired[str]
    workspace: NotRequired[str]
    region: NotRequired[str]
    software: NotRequired[str]
    image: NotRequired[str]
    vm_types: NotRequired[list[str]]
    arm: NotRequired[bool]
    cpu: NotRequired[int]
    memory: NotRequired[str]
    gpu: NotRequired[bool]
    env: NotRequired[dict[str, str]]
    additional_coiled_options: NotRequired[dict[str, Any]]


class CoiledPushPool(PoolComponent):
    """One Coiled work pool: its credentials block payload and template defaults."""

    RESOURCE_TYPE = "pushpools:coiled:CoiledPushPool"
    CLOUD = Cloud.COILED

    def __init__(
        self,
        name: str,
        args: CoiledPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        coiled = self._cloud_settings(CoiledSettings)
        self._finish(
            # prefect-coiled's CoiledCredentials has one field, `api_token`.
            credentials_data=pulumi.Output.all(api_token=self._secret("api_token")),
            template_defaults=coiled.template_defaults(),
            image_namespace=None,
        )
