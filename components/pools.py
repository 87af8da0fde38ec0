"""From a pool of the validated stack config to the component of its kind.

The component class comes from the pool kind's registry row, so each cloud's module (and its
provider SDK, hundreds of megabytes) is imported only when a stack declares such a pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from pushpools.components.config import PoolConfig
from pushpools.components.pool_component import PoolComponent


def build_pool(
    pool: PoolConfig,
    labels: Mapping[str, str],
    secrets: Mapping[str, Any] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> PoolComponent:
    """The pool's component, from its already validated config (no second validation).
    `secrets`: its kind's secret args, read by the loader as Pulumi secrets."""
    component_class: type[PoolComponent] = pool.kind.component_class()
    return component_class.from_config(pool, labels, secrets, opts)
