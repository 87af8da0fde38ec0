"""The Prefect Managed pool: nothing in any cloud, no block, only template defaults."""

from __future__ import annotations

import pytest

from pushpools_tools.engine import ProgramRun, reveal
from tests.harness import config_problems, run_pools


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_pools(
        {
            "name": "managed",
            "type": "prefect:managed",
            "description": "Quick experiments on Prefect's infrastructure",
            "managed": {
                "env": {"EXECUTION_ENV": "dev", "LOG_LEVEL": "INFO"},
                "pip_packages": ["pandas>=2,<3", "prefect-aws[s3]", "httpx"],
            },
        }
    )


def test_a_managed_pool_declares_only_its_component(run: ProgramRun) -> None:
    assert [(r.type, r.name, r.custom) for r in run.resources] == [
        ("pushpools:prefect:ManagedPool", "managed", False)
    ]


def test_a_managed_pool_has_template_defaults_and_no_block(run: ProgramRun) -> None:
    assert run.outputs["pools"]["managed"] == {
        "type": "prefect:managed",
        "work_pool_name": "managed",
        "credentials_block": None,
        "template_defaults": {
            "env": {"EXECUTION_ENV": "dev", "LOG_LEVEL": "INFO"},
            "pip_packages": ["pandas>=2,<3", "prefect-aws[s3]", "httpx"],
        },
        "image_namespace": None,
    }
    assert reveal(run.outputs["credentials_blocks"]) == {}


def test_a_managed_pool_needs_no_settings_and_keeps_prefects_defaults() -> None:
    run = run_pools({"name": "bare", "type": "prefect:managed"})
    assert run.outputs["pools"]["bare"]["template_defaults"] == {}


@pytest.mark.parametrize("package", ["pandas>=2", "prefect-aws[s3,ecs]==0.7.1", "my_pkg.sub"])
def test_pip_requirements_are_accepted(package: str) -> None:
    run = run_pools(
        {"name": "m", "type": "prefect:managed", "managed": {"pip_packages": [package]}}
    )
    assert run.outputs["pools"]["m"]["template_defaults"] == {"pip_packages": [package]}


@pytest.mark.parametrize("package", ["", "-e .", "pandas; rm -rf /&&", "../local"])
def test_something_that_is_not_a_pip_requirement_is_refused(package: str) -> None:
    pool = {"name": "m", "type": "prefect:managed", "managed": {"pip_packages": ["ok", package]}}
    problems = config_problems({"pushpools:pools": [pool]})
    assert len(problems) == 1
    assert problems[0].startswith(
        f"pushpools:pools[0].managed.pip_packages: {package!r} is not a pip requirement"
    )


def test_a_bad_environment_variable_name_is_refused() -> None:
    pool = {"name": "m", "type": "prefect:managed", "managed": {"env": {"MY-VAR": "x"}}}
    problems = config_problems({"pushpools:pools": [pool]})
    assert problems == [
        "pushpools:pools[0].managed.env: 'MY-VAR' is not an environment variable name; "
        "allowed: letters, digits and '_', not starting with a digit"
    ]


def test_a_managed_pool_takes_no_cloud_section() -> None:
    pool = {"name": "m", "type": "prefect:managed", "modal": {}}
    problems = config_problems({"pushpools:pools": [pool]})
    assert len(problems) == 1
    assert "cannot have a 'modal' section; it takes 'managed'" in problems[0]
