"""The stack outputs: what a user (or a pipeline) reads after `pulumi up`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi

from pushpools.components.coiled.pool import CoiledPushPool
from pushpools.components.pool_component import PoolComponent
from pushpools.components.prefect.deployment import prefect_yaml_snippet

if TYPE_CHECKING:
    from pushpools.components.loader import PrefectRegistration
    from pushpools.components.prefect.wiring import RegisteredPool


def export_pools(
    components: Sequence[PoolComponent],
    registration: PrefectRegistration | None = None,
    registered: Mapping[str, RegisteredPool] | None = None,
) -> None:
    """Export `pools` (plain: what to register in Prefect, minus secrets),
    `credentials_blocks` (secret: each pool's block payload), `prefect_yaml` (per pool, the
    lines that send a deployment there), `coiled_setup` (only with Coiled pools that declare
    Coiled's cloud setup: what to enter in Coiled's UI) and `prefect_registration` (whether
    and where the pools were registered, and their IDs there)."""
    pulumi.export("pools", {c.pool_name: _pool_summary(c) for c in components})
    pulumi.export("prefect_yaml", {c.pool_name: _deployment_snippet(c) for c in components})
    # Coiled pools with `cloud_setup`: what the user enters in Coiled's setup page.
    coiled_setups = {
        c.pool_name: summary
        for c in components
        if isinstance(c, CoiledPushPool) and (summary := c.coiled_setup_summary()) is not None
    }
    if coiled_setups:
        pulumi.export("coiled_setup", coiled_setups)
    if registration is not None:
        registered = registered or {}
        pulumi.export(
            "prefect_registration",
            {
                **registration.summary(),
                "pools": {name: _prefect_ids(pool) for name, pool in registered.items()},
            },
        )
    pulumi.export(
        "credentials_blocks",
        pulumi.Output.secret(
            {
                c.pool_name: {
                    "type_slug": c.block_to_register.type_slug,
                    "name": c.block_to_register.name,
                    "data": c.block_to_register.data,
                }
                for c in components
                if c.block_to_register is not None
            }
        ),
    )


def _pool_summary(component: PoolComponent) -> dict[str, Any]:
    block = component.block_to_register
    return {
        "type": component.pool_type.value,
        "work_pool_name": component.pool_name,
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


def _deployment_snippet(component: PoolComponent) -> pulumi.Output[str]:
    name = component.pool_name
    return pulumi.Output.from_input(component.image_reference).apply(
        lambda reference: prefect_yaml_snippet(name, reference)
    )


def _prefect_ids(registered: RegisteredPool) -> dict[str, Any]:
    return {
        "work_pool_id": registered.work_pool.pool_id,
        "block_document_id": None
        if registered.block is None
        else registered.block.block_document_id,
    }
