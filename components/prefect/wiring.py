"""From a pool component to its Prefect objects: the credentials block, and the work pool
whose template references that block and carries the component's defaults.

Works for any PoolComponent, including those with no block (Prefect Managed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from pushpools.components.config.prefect import PrefectRegistration
from pushpools.components.pool_component import PoolComponent
from pushpools.components.prefect.common import ConnectionArgs

if TYPE_CHECKING:
    from pushpools.components.prefect.blocks import PrefectBlock
    from pushpools.components.prefect.work_pools import PrefectWorkPool


@dataclass(frozen=True)
class RegisteredPool:
    """A pool's objects in Prefect."""

    block: PrefectBlock | None
    work_pool: PrefectWorkPool


def register_pools(
    components: Sequence[PoolComponent], registration: PrefectRegistration
) -> dict[str, RegisteredPool]:
    """Declare every pool's Prefect objects; none when registration is off."""
    if not registration.enabled or registration.api_url is None:
        return {}
    connection = ConnectionArgs(
        api_url=registration.api_url,
        api_key=registration.api_key,
        auth_string=registration.auth_string,
    )
    return {
        c.pool.name: register_pool(c, connection, registration.templates.get(c.pool.name))
        for c in components
    }


def register_pool(
    component: PoolComponent,
    connection: ConnectionArgs,
    base_template: dict[str, Any] | None = None,
) -> RegisteredPool:
    # Imported on use: a stack that registers nothing (the offline plan of most stacks)
    # does not load the dynamic-provider machinery.
    from pushpools.components.prefect.blocks import PrefectBlock
    from pushpools.components.prefect.work_pools import PrefectWorkPool

    pool = component.pool
    settings = pool.prefect
    # Children of the pool's component; the pool depends on the block, so destroy removes
    # the pool first.
    child = pulumi.ResourceOptions(parent=component)
    block = None
    spec = component.credentials_block
    if spec is not None:
        block = PrefectBlock(
            f"{pool.name}-credentials-block",
            connection=connection,
            type_slug=spec.type_slug,
            name=spec.name,
            data=spec.data,
            adopt_existing=settings.adopt_existing,
            opts=child,
        )
    work_pool = PrefectWorkPool(
        f"{pool.name}-work-pool",
        connection=connection,
        name=pool.name,
        type=pool.type.value,
        description=pool.description,
        concurrency_limit=settings.concurrency_limit,
        paused=settings.paused,
        template_defaults=component.template_defaults,
        credentials_variable=None if spec is None else spec.template_variable,
        block_document_id=None if block is None else block.block_document_id,
        base_template=base_template,
        adopt_existing=settings.adopt_existing,
        opts=child,
    )
    return RegisteredPool(block, work_pool)
