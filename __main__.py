"""The pushpools stack program: read the stack config, build one component per pool
(through the components' public args), register them in Prefect, export.

`pulumi up` runs this file; so does `pushpools plan`, on an offline engine.
"""

from pushpools.components.config import load_stack_config
from pushpools.components.config.prefect import load_prefect_registration
from pushpools.components.exports import export_pools
from pushpools.components.pools import build_pool
from pushpools.components.prefect.wiring import register_pools

stack_config = load_stack_config()
# Checked before anything is declared, like the rest of the config.
registration = load_prefect_registration(stack_config)
pools = [(pool, build_pool(pool, stack_config.labels)) for pool in stack_config.pools]
export_pools(
    [component for _, component in pools], registration, register_pools(pools, registration)
)
