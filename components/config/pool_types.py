"""The work-pool types pushpools knows, and what each needs from Prefect and a cloud."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PoolType(StrEnum):
    CLOUD_RUN_PUSH = "cloud-run:push"
    CLOUD_RUN_V2_PUSH = "cloud-run-v2:push"
    ECS_PUSH = "ecs:push"
    AZURE_CONTAINER_INSTANCE_PUSH = "azure-container-instance:push"
    MODAL_PUSH = "modal:push"
    PREFECT_MANAGED = "prefect:managed"
    # Worker types: self-hosted Prefect servers know no push pools; these need the
    # same cloud prerequisites, with a worker polling instead of Prefect Cloud pushing.
    CLOUD_RUN = "cloud-run"
    CLOUD_RUN_V2 = "cloud-run-v2"
    ECS = "ecs"
    AZURE_CONTAINER_INSTANCE = "azure-container-instance"


class Cloud(StrEnum):
    """Also the name of the pool's settings section in the stack config."""

    GCP = "gcp"
    AWS = "aws"
    AZURE = "azure"
    MODAL = "modal"
    MANAGED = "managed"


@dataclass(frozen=True)
class PoolKind:
    cloud: Cloud
    push: bool
    block_type_slug: str | None
    """Type of the Prefect credentials block the pool's template points at; None: no block."""
    credentials_variable: str | None
    """The base-job-template variable that holds the block reference."""
    default_block_name: str
    """Default block name, as Prefect's own `--provision-infra` helper names it."""


_GCP = PoolKind(Cloud.GCP, True, "gcp-credentials", "credentials", "{pool}-push-pool-credentials")
_AWS = PoolKind(Cloud.AWS, True, "aws-credentials", "aws_credentials", "{pool}-aws-credentials")
_AZURE = PoolKind(
    Cloud.AZURE,
    True,
    "azure-container-instance-credentials",
    "aci_credentials",
    "{pool}-push-pool-credentials",
)

POOL_KINDS: dict[PoolType, PoolKind] = {
    PoolType.CLOUD_RUN_PUSH: _GCP,
    PoolType.CLOUD_RUN_V2_PUSH: _GCP,
    PoolType.CLOUD_RUN: PoolKind(**{**_GCP.__dict__, "push": False}),
    PoolType.CLOUD_RUN_V2: PoolKind(**{**_GCP.__dict__, "push": False}),
    PoolType.ECS_PUSH: _AWS,
    PoolType.ECS: PoolKind(**{**_AWS.__dict__, "push": False}),
    PoolType.AZURE_CONTAINER_INSTANCE_PUSH: _AZURE,
    PoolType.AZURE_CONTAINER_INSTANCE: PoolKind(**{**_AZURE.__dict__, "push": False}),
    PoolType.MODAL_PUSH: PoolKind(
        Cloud.MODAL, True, "modal-credentials", "modal_credentials", "{pool}-modal-credentials"
    ),
    PoolType.PREFECT_MANAGED: PoolKind(Cloud.MANAGED, True, None, None, ""),
}

SUPPORTED_CLOUDS: frozenset[Cloud] = frozenset(
    {Cloud.GCP, Cloud.AWS, Cloud.AZURE, Cloud.MODAL, Cloud.MANAGED}
)
"""Clouds with a component in this version; other pool types are refused, never ignored."""
