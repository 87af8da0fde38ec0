"""The stack outputs: what a user (or a pipeline) reads after `pulumi up`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.pool_component import PoolComponent


def export_pools(components: Sequence[PoolComponent]) -> None:
    """Export `pools` (plain: what to register in Prefect, minus secrets) and
    `credentials_blocks` (secret: each pool's block payload)."""
    pulumi.export("pools", {c.pool.name: _pool_summary(c) for c in components})
    pulumi.export(
        "credentials_blocks",
        pulumi.Output.secret(
            {
                c.pool.name: {
                    "type_slug": c.credentials_block.type_slug,
                    "name": c.credentials_block.name,
                    "data": c.credentials_block.data,
                }
                for c in components
                if c.credentials_block is not None
            }
        ),
    )


def _pool_summary(component: PoolComponent) -> dict[str, Any]:
    block = component.credentials_block
    return {
        "type": component.pool.type.value,
        "work_pool_name": component.pool.name,
        "credentials_block": None
        if block is None
        else {
            "type_slug": block.type_slug,
            "name": block.name,
            "variable": block.template_variable,
        },
        "template_defaults": component.template_defaults,
        "image_namespace": component.image_namespace,
    }
