"""Derived physical names fit each cloud's rules, and are stable."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pushpools.components.aws.settings import EcsSettings
from pushpools.components.azure.settings import AciSettings, today_utc
from pushpools.components.gcp.settings import CloudRunSettings
from pushpools.components.naming import NameRule, Naming, fit


def test_a_name_that_fits_is_kept() -> None:
    assert fit("dev-ecs-cluster", NameRule(255)) == "dev-ecs-cluster"


def test_a_long_name_is_cut_with_a_stable_hash_of_the_whole_name() -> None:
    rule = NameRule(30)
    a = fit("nightly-training-of-the-big-model-prefect", rule)
    b = fit("nightly-training-of-the-big-model-jobs", rule)
    assert len(a) == 30
    assert len(b) <= 30
    assert a.startswith("nightly-training-of")
    assert a != b
    assert fit("nightly-training-of-the-big-model-prefect", rule) == a
    assert re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{6}", a)


def test_a_cut_never_leaves_a_dash_before_the_hash() -> None:
    name = fit("abcdefghijklmnopqrstuv-xyz-prefect", NameRule(30))
    assert "--" not in name
    assert not name.endswith("-")


def test_a_name_that_must_start_with_a_letter_gets_one() -> None:
    assert fit("42-jobs", NameRule(30, first_is_letter=True)) == "p42-jobs"


def test_a_reserved_prefix_is_avoided() -> None:
    assert fit("sg-data-tasks", NameRule(255, refused_prefix="sg-")) == "p-sg-data-tasks"


def test_characters_a_cloud_refuses_are_dropped() -> None:
    rule = NameRule(50, dropped="^A-Za-z0-9")
    assert fit("dev-aci-1234", rule) == "devaci1234"
    long = fit("ab-" * 30, rule)
    assert len(long) == 50
    assert long.isalnum()


def test_a_security_group_of_a_pool_named_sg_is_valid() -> None:
    settings = EcsSettings.model_validate({"region": "eu-west-1", "task_role": {}})
    names = settings.resolve_names("sg-pool", Naming.DERIVED).names
    assert names.security_group == "p-sg-pool-tasks"
    # Every derived name is one the config itself accepts.
    EcsSettings.model_validate(
        {"region": "eu-west-1", "task_role": {}, "names": names.model_dump()}
    )


def test_every_derived_azure_name_of_a_long_pool_name_is_one_azure_accepts() -> None:
    settings = AciSettings.model_validate(
        {
            "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
            "client_secret_expires_on": (today_utc() + timedelta(days=30)).isoformat(),
        }
    )
    pool = "a-very-long-pool-name-" + "x" * 41  # 63 characters, the longest pool name
    names = settings.resolve_names(pool, Naming.DERIVED).names
    assert re.fullmatch(r"[a-z0-9]{50}", str(names.registry))
    assert str(names.registry).startswith("averylongpoolname")
    # Round trip: the config's own validators accept every derived name.
    AciSettings.model_validate({**settings.model_dump(), "names": names.model_dump()})


TRICKY_POOL_NAMES = [
    "a",
    "1",
    "9-lives",
    "sg-pool",
    "x" * 63,
    "a-" * 31 + "b",
    "prod-machine-learning-nightly-training-and-evaluation-pipeline",
]


@pytest.mark.parametrize("pool", TRICKY_POOL_NAMES)
def test_every_derived_name_is_one_the_config_itself_accepts(pool: str) -> None:
    gcp = CloudRunSettings.model_validate({"project": "acme-data-dev"})
    aws = EcsSettings.model_validate({"region": "eu-west-1", "task_role": {}})
    azure = AciSettings.model_validate(
        {
            "subscription_id": "6b1f3c2e-8d4a-4f7e-9a0b-2c5d7e9f1a3b",
            "client_secret_expires_on": (today_utc() + timedelta(days=30)).isoformat(),
        }
    )
    for settings in (gcp, aws, azure):
        names = settings.resolve_names(pool, Naming.DERIVED).names
        values = names.model_dump(exclude_none=True)
        assert set(values) >= {"repository"} or "registry" in values
        # Validating them as explicit names runs every rule of the cloud on them.
        type(settings).model_validate({**settings.model_dump(), "names": values})


def test_derived_names_of_two_pools_sharing_a_long_prefix_differ() -> None:
    gcp = CloudRunSettings.model_validate({"project": "acme-data-dev"})
    first = gcp.resolve_names("nightly-training-pipeline-europe", Naming.DERIVED).names
    second = gcp.resolve_names("nightly-training-pipeline-asia", Naming.DERIVED).names
    assert first.service_account != second.service_account
    assert first.runtime_service_account != second.runtime_service_account
