"""The pushpools stack program: read the stack config, build one component per pool, register
each in Prefect after its grants, export.

It uses the public library exactly as any program can: `load_stack` (the one loader),
each kind's component (`from_config`, from the registry), `register_pool`, `export_pools`.
`pulumi up` runs this file; so does `pushpools plan`, on an offline engine.
"""

from pushpools.components.exports import export_pools
from pushpools.components.loader import load_stack
from pushpools.components.pools import build_pool
from pushpools.components.prefect.wiring import register_pool

stack = load_stack()  # every problem of the config, before anything is declared
registration = stack.registration
components = [
    build_pool(pool, stack.config.labels, stack.secrets[pool.name]) for pool in stack.config.pools
]
registered = {}
if registration.connection is not None:
    for pool, component in zip(stack.config.pools, components, strict=True):
        registered[pool.name] = register_pool(
            component,
            connection=registration.connection,
            description=pool.description,
            concurrency_limit=pool.prefect.concurrency_limit,
            paused=pool.prefect.paused,
            base_template=registration.templates.get(pool.name),
            adopt_existing=pool.prefect.adopt_existing,
            work_queues=pool.prefect.work_queues,
            job_variables=pool.prefect.job_variables,
        )
export_pools(components, registration, registered)
