"""The `prefect.yaml` lines that send a deployment to a pool, for the stack outputs."""

from __future__ import annotations

from typing import Any

import yaml

IMAGE_PLACEHOLDER = "<image>:<tag>"


def prefect_yaml_snippet(pool_name: str, image_namespace: str | None) -> str:
    """The `work_pool` section of a deployment in `prefect.yaml`."""
    work_pool: dict[str, Any] = {"name": pool_name}
    if image_namespace:
        work_pool["job_variables"] = {"image": f"{image_namespace}/{IMAGE_PLACEHOLDER}"}
    return yaml.safe_dump({"work_pool": work_pool}, sort_keys=False)
