"""What every pool component hands to the Prefect side, whatever its cloud."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

from pushpools.components.config import PoolConfig

SettingsT = TypeVar("SettingsT")


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
    image_reference: pulumi.Output[str] | None
    """What a deployment's `image` looks like in that registry, with placeholders."""

    def __init__(
        self, type_token: str, pool: PoolConfig, opts: pulumi.ResourceOptions | None
    ) -> None:
        super().__init__(type_token, pool.name, {}, opts)
        self.pool = pool

    def _cloud_settings(self, settings_type: type[SettingsT]) -> SettingsT:
        """The pool's section for its cloud (the config model guarantees it is there)."""
        section = getattr(self.pool, self.pool.kind.cloud.value, None)
        if not isinstance(section, settings_type):
            raise TypeError(f"pool {self.pool.name!r} has no {settings_type.__name__}")
        return section

    def _finish(
        self,
        *,
        credentials_data: pulumi.Input[dict[str, Any]] | None,
        template_defaults: pulumi.Input[dict[str, Any]],
        image_namespace: pulumi.Input[str] | None,
        one_image_per_repository: bool = False,
    ) -> None:
        """Publish what Prefect needs; `credentials_data` becomes the block's (secret) data.

        `one_image_per_repository`: the namespace is a single image's repository (ECR),
        tagged directly, rather than a registry path that holds many images.
        """
        credentials_block = None
        if credentials_data is not None:
            kind = self.pool.kind
            if self.pool.block_name is None or kind.credentials_variable is None:
                raise TypeError(f"pool type {self.pool.type.value} takes no credentials block")
            credentials_block = CredentialsBlock(
                type_slug=str(kind.block_type_slug),
                name=self.pool.block_name,
                data=pulumi.Output.secret(credentials_data),
                template_variable=kind.credentials_variable,
            )
        self.credentials_block = credentials_block
        self.template_defaults = pulumi.Output.from_input(template_defaults)
        self.image_namespace = (
            None if image_namespace is None else pulumi.Output.from_input(image_namespace)
        )
        pattern = "{}:<tag>" if one_image_per_repository else "{}/<image>:<tag>"
        self.image_reference = (
            None if self.image_namespace is None else self.image_namespace.apply(pattern.format)
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
