"""The `prefect.yaml` lines that send a deployment to a pool, for the stack outputs."""

from __future__ import annotations

from typing import Any

import yaml


def prefect_yaml_snippet(pool_name: str, image_reference: str | None) -> str:
    """The `work_pool` section of a deployment in `prefect.yaml`."""
    work_pool: dict[str, Any] = {"name": pool_name}
    if image_reference:
        work_pool["job_variables"] = {"image": image_reference}
    return yaml.safe_dump({"work_pool": work_pool}, sort_keys=False)
