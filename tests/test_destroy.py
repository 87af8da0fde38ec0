"""`pulumi destroy` never stops halfway on a registry with images in it: by default each
registry is protected, so destroy stops in its preview, before anything is deleted, naming
the registry; with `delete_images_on_destroy` it is deleted with its images."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from harness import inputs, run_pools

from pushpools.components.azure.settings import today_utc
from pushpools_tools.engine import ProgramRun

ECR = "aws:ecr/repository:Repository"
ARTIFACT_REGISTRY = "gcp:artifactregistry/repository:Repository"
ACR = "azure-native:containerregistry:Registry"


def _pools(delete_images: bool | None) -> list[dict[str, Any]]:
    flag = {} if delete_images is None else {"delete_images_on_destroy": delete_images}
    expiry = (today_utc() + timedelta(days=90)).isoformat()
    return [
        {"name": "run", "type": "cloud-run:push", "gcp": {"project": "acme-data", **flag}},
        {"name": "ecs", "type": "ecs:push", "aws": {"region": "eu-west-1", "ecr": flag}},
        {
            "name": "aci",
            "type": "azure-container-instance:push",
            "azure": {
                "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
                "client_secret_expires_on": expiry,
                **flag,
            },
        },
    ]


@pytest.fixture(scope="module")
def default_run() -> ProgramRun:
    return run_pools(*_pools(None))


@pytest.fixture(scope="module")
def opted_in_run() -> ProgramRun:
    return run_pools(*_pools(True))


def test_by_default_every_registry_and_nothing_else_is_protected(default_run: ProgramRun) -> None:
    protected = {(r.type, r.name) for r in default_run.resources if r.protect}
    assert protected == {
        (ARTIFACT_REGISTRY, "run-images"),
        (ECR, "ecs-images"),
        (ACR, "aci-registry"),
    }
    # ECR would refuse to delete a repository with images: never asked to force it.
    assert inputs(default_run.one(ECR))["forceDelete"] is False


def test_delete_images_on_destroy_unprotects_and_forces_the_delete(
    opted_in_run: ProgramRun,
) -> None:
    assert [r.name for r in opted_in_run.resources if r.protect] == []
    assert inputs(opted_in_run.one(ECR))["forceDelete"] is True


def test_false_is_the_default(default_run: ProgramRun) -> None:
    explicit = run_pools(*_pools(False))
    assert {(r.type, r.name) for r in explicit.resources if r.protect} == {
        (r.type, r.name) for r in default_run.resources if r.protect
    }
