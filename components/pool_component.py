"""What every pool component hands to the Prefect side, whatever its cloud."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.config import PoolConfig


@dataclass(frozen=True)
class CredentialsBlock:
    """A Prefect credentials block to register: its type, name and (secret) data."""

    type_slug: str
    name: str
    data: pulumi.Output[dict[str, Any]]
    """Always a Pulumi secret: it holds the identity's key."""
    template_variable: str
    """The base-job-template variable that must reference this block."""


class PoolComponent(pulumi.ComponentResource):
    """Base of the per-cloud components: a pool's infrastructure and what Prefect needs of it."""

    pool: PoolConfig
    credentials_block: CredentialsBlock | None
    """The block Prefect acts through; None for pools that need none (Prefect Managed)."""
    template_defaults: pulumi.Output[dict[str, Any]]
    """Base-job-template defaults that point the pool at this infrastructure (without the
    credentials reference, which exists only once the block is registered)."""
    image_namespace: pulumi.Output[str] | None
    """Where to push flow images; None when the pool's cloud hosts no registry."""

    def __init__(
        self, type_token: str, pool: PoolConfig, opts: pulumi.ResourceOptions | None
    ) -> None:
        super().__init__(type_token, pool.name, {}, opts)
        self.pool = pool

    def _finish(
        self,
        *,
        credentials_block: CredentialsBlock | None,
        template_defaults: pulumi.Input[dict[str, Any]],
        image_namespace: pulumi.Input[str] | None,
    ) -> None:
        self.credentials_block = credentials_block
        self.template_defaults = pulumi.Output.from_input(template_defaults)
        self.image_namespace = (
            None if image_namespace is None else pulumi.Output.from_input(image_namespace)
        )
        self.register_outputs(
            {
                "credentialsBlock": None
                if credentials_block is None
                else pulumi.Output.secret(
                    {
                        "type_slug": credentials_block.type_slug,
                        "name": credentials_block.name,
                        "data": credentials_block.data,
                    }
                ),
                "templateDefaults": self.template_defaults,
                "imageNamespace": self.image_namespace,
            }
        )
