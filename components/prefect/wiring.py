"""From a pool to its Prefect objects: the credentials block, and the work pool whose
template references that block and carries the pool's defaults.

One path for every program: `register_pool` declares a pool component's Prefect objects
after every grant of the pool, whether the stack program calls it (children of the pool's
component) or the `PoolRegistration` component does (children of the registration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from pushpools.components.pool_component import CredentialsBlock, PoolComponent
from pushpools.components.prefect.common import ConnectionArgs

if TYPE_CHECKING:
    from pushpools.components.prefect.blocks import PrefectBlock
    from pushpools.components.prefect.work_pools import PrefectWorkPool


@dataclass(frozen=True)
class RegisteredPool:
    """A pool's objects in Prefect."""

    block: PrefectBlock | None
    work_pool: PrefectWorkPool


def register_pool(
    pool: PoolComponent,
    *,
    connection: ConnectionArgs,
    parent: pulumi.Resource | None = None,
    description: str | None = None,
    concurrency_limit: int | None = None,
    paused: bool = False,
    base_template: dict[str, Any] | None = None,
    adopt_existing: bool = False,
) -> RegisteredPool:
    """Declare a pool component's block and work pool in Prefect, as children of `parent`
    (default: the pool's component), after every grant of the pool."""
    return declare_prefect_objects(
        work_pool_name=pool.pool_name,
        work_pool_type=pool.pool_type.value,
        block=pool.block_to_register,
        template_defaults=pool.template_defaults,
        connection=connection,
        parent=pool if parent is None else parent,
        description=description,
        concurrency_limit=concurrency_limit,
        paused=paused,
        base_template=base_template,
        adopt_existing=adopt_existing,
        depends_on=pool.grants,
    )


def declare_prefect_objects(
    *,
    work_pool_name: str,
    work_pool_type: str,
    block: CredentialsBlock | None,
    template_defaults: pulumi.Input[dict[str, Any]],
    connection: ConnectionArgs,
    parent: pulumi.Resource,
    description: str | None = None,
    concurrency_limit: int | None = None,
    paused: bool = False,
    base_template: dict[str, Any] | None = None,
    adopt_existing: bool = False,
    depends_on: Sequence[pulumi.Resource] = (),
) -> RegisteredPool:
    """The block (if the pool has one) and the work pool, as children of `parent`.

    The pool depends on the block, so destroy removes the pool first. Both wait for
    `depends_on` (the pool's grants): a pool never becomes usable before its identity can
    act, and a failed grant stops its registration.
    """
    # Imported on use: a stack that registers nothing (the offline plan of most stacks)
    # does not load the dynamic-provider machinery.
    from pushpools.components.prefect.blocks import PrefectBlock
    from pushpools.components.prefect.work_pools import PrefectWorkPool

    child = pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on))
    prefect_block = None
    if block is not None:
        prefect_block = PrefectBlock(
            f"{work_pool_name}-credentials-block",
            connection=connection,
            type_slug=block.type_slug,
            name=block.name,
            data=block.data,
            adopt_existing=adopt_existing,
            opts=child,
        )
    work_pool = PrefectWorkPool(
        f"{work_pool_name}-work-pool",
        connection=connection,
        name=work_pool_name,
        type=work_pool_type,
        description=description,
        concurrency_limit=concurrency_limit,
        paused=paused,
        template_defaults=template_defaults,
        credentials_variable=None if block is None else block.template_variable,
        block_document_id=None if prefect_block is None else prefect_block.block_document_id,
        base_template=base_template,
        adopt_existing=adopt_existing,
        opts=child,
    )
    return RegisteredPool(prefect_block, work_pool)
