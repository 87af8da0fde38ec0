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

if TYPE_CHECKING:
    from pushpools.components.config.prefect import JobVariableSettings, WorkQueueSettings
    from pushpools.components.prefect.blocks import PrefectBlock
    from pushpools.components.prefect.common import ConnectionArgs
    from pushpools.components.prefect.work_pools import PrefectWorkPool
    from pushpools.components.prefect.work_queues import PrefectWorkQueue


@dataclass(frozen=True)
class RegisteredPool:
    """A pool's objects in Prefect."""

    block: PrefectBlock | None
    work_pool: PrefectWorkPool
    work_queues: tuple[PrefectWorkQueue, ...] = ()


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
    work_queues: Sequence[WorkQueueSettings] = (),
    job_variables: JobVariableSettings | None = None,
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
        work_queues=work_queues,
        job_variables=job_variables,
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
    work_queues: Sequence[WorkQueueSettings] = (),
    job_variables: JobVariableSettings | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> RegisteredPool:
    """The block (if the pool has one) and the work pool, as children of `parent`.

    The pool depends on the block, so destroy removes the pool first. Both wait for
    `depends_on` (the pool's grants): a pool never becomes usable before its identity can
    act, and a failed grant stops its registration. The queues come after the pool (and
    are deleted before it), in ascending priority, each after the previous: Prefect moves
    a queue whose priority another takes, and this order never moves one already set.
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
    interface = job_variables
    if interface is not None and interface.default:
        own_defaults = template_defaults
        template_defaults = pulumi.Output.from_input(own_defaults).apply(
            lambda own: {**(own or {}), **interface.default}
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
        pins=None if interface is None else dict(interface.pin),
        pinned_defaults=None if interface is None else list(interface.pin_defaults),
        bounds=None
        if interface is None
        else {name: bound.schema_keywords() for name, bound in interface.bound.items()},
        opts=child,
    )
    queues = _declare_queues(
        work_pool, work_pool_name, work_queues, connection, parent, adopt_existing
    )
    return RegisteredPool(prefect_block, work_pool, queues)


def _declare_queues(
    work_pool: PrefectWorkPool,
    work_pool_name: str,
    work_queues: Sequence[WorkQueueSettings],
    connection: ConnectionArgs,
    parent: pulumi.Resource,
    adopt_existing: bool,
) -> tuple[PrefectWorkQueue, ...]:
    from pushpools.components.prefect.work_queues import PrefectWorkQueue

    declared: list[PrefectWorkQueue] = []
    # Set priorities first, ascending; queues that leave theirs to Prefect last.
    for queue in sorted(work_queues, key=lambda q: (q.priority is None, q.priority or 0)):
        after: list[pulumi.Resource] = [work_pool, *declared[-1:]]
        declared.append(
            PrefectWorkQueue(
                # Queue names are free text: a short stable digest keeps the name safe.
                f"{work_pool_name}-queue-{_slug(queue.name)}",
                connection=connection,
                name=queue.name,
                work_pool_name=work_pool_name,
                work_pool_id=work_pool.pool_id,
                description=queue.description,
                priority=queue.priority,
                concurrency_limit=queue.concurrency_limit,
                paused=queue.paused,
                adopt_existing=adopt_existing,
                opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
            )
        )
    return tuple(declared)


def _slug(name: str) -> str:
    """A queue name as part of a logical name: itself when it is plain, else a slug and
    a digest (two names that slug alike stay apart)."""
    import hashlib
    import re

    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if slug == name:
        return name
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
