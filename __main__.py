"""The pushpools stack program: read the stack config, build one component per pool, export.

`pulumi up` runs this file; so does `pushpools plan`, on an offline engine.
"""

from components.config import load_stack_config
from components.exports import export_pools
from components.pools import build_pool

stack_config = load_stack_config()
pools = [build_pool(pool, stack_config.labels) for pool in stack_config.pools]
export_pools(pools)
