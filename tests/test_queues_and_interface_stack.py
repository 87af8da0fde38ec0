"""Work queues and the enforced interface from the stack config: the real stack program on
the offline engine (what is declared, in which order, with what), the plan and its diff,
and bad config refused up front."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pushpools_tools.diff import diff_plans
from pushpools_tools.diff import render_text as render_diff
from pushpools_tools.plan import plan_document, render_text
from tests.harness import config_problems, inputs, run_config

SELF_HOSTED = "http://prefect.internal:4200/api"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
WORK_QUEUE = "pulumi-python:dynamic/prefect:WorkQueue"
QUEUES = [
    {"name": "default", "priority": 3},
    {"name": "backfills", "concurrency_limit": 2, "paused": True},
    {"name": "critical", "priority": 1, "concurrency_limit": 10, "description": "Pages"},
    {"name": "nightly", "priority": 2},
]
INTERFACE = {
    "pin": {"launch_type": "FARGATE"},
    "pin_defaults": ["cluster"],
    "bound": {"cpu": {"minimum": 256, "maximum": 4096}, "image": {"pattern": "^123456789012"}},
    "default": {"memory": 2048},
}


def config(**prefect: Any) -> dict[str, Any]:
    pool = {
        "name": "runs",
        "type": "cloud-run",
        "gcp": {"project": "acme-data-dev", "region": "europe-west1"},
        "prefect": prefect,
    }
    return {"pushpools:pools": [pool], "pushpools:prefect": {"api_url": SELF_HOSTED}}


def test_queues_are_declared_after_their_pool_in_ascending_priority() -> None:
    run = run_config(config(work_queues=QUEUES))

    pool = run.one(WORK_POOL)
    queues = [r for r in run.resources if r.type == WORK_QUEUE]
    assert [inputs(q)["name"] for q in queues] == ["critical", "nightly", "default", "backfills"]
    for previous, queue in zip([None, *queues], queues, strict=False):
        assert pool.urn in queue.dependencies  # created after, deleted before the pool
        if previous is not None:
            assert previous.urn in queue.dependencies  # Prefect never moves a set priority
    critical = inputs(run.one(WORK_QUEUE, "runs-queue-critical"))
    assert critical["work_pool_name"] == "runs"
    assert (critical["priority"], critical["concurrency_limit"]) == (1, 10)
    assert critical["description"] == "Pages"
    backfills = inputs(run.one(WORK_QUEUE, "runs-queue-backfills"))
    assert (backfills.get("priority"), backfills["paused"]) == (None, True)


def test_pins_bounds_and_defaults_reach_the_work_pool() -> None:
    run = run_config(config(job_variables=INTERFACE))

    pool = inputs(run.one(WORK_POOL))
    assert pool["template_pins"] == {"launch_type": "FARGATE"}
    assert pool["template_pinned_defaults"] == ["cluster"]
    assert pool["template_bounds"] == {
        "cpu": {"minimum": 256, "maximum": 4096},
        "image": {"pattern": "^123456789012"},
    }
    assert pool["template_defaults"]["memory"] == 2048
    assert pool["template_defaults"]["region"] == "europe-west1"  # pushpools' own stay


def test_a_pool_without_queues_or_interface_declares_what_it_always_did() -> None:
    pool = inputs(run_config(config()).one(WORK_POOL))
    assert not {"template_pins", "template_pinned_defaults", "template_bounds"} & set(pool)


def test_the_plan_and_its_diff_show_queues_pins_and_bounds() -> None:
    before = run_config(config(work_queues=QUEUES[:2]))
    after = run_config(
        config(
            work_queues=[{**QUEUES[0], "priority": 4}, *QUEUES[2:]],
            job_variables=INTERFACE,
        )
    )

    text = render_text(after)
    assert "+ pulumi-python:dynamic/prefect:WorkQueue  runs-queue-critical" in text
    assert 'template_pins: {"launch_type": "FARGATE"}' in text
    assert '"maximum": 4096' in text
    diff = render_diff(diff_plans(plan_document(before), plan_document(after)))
    assert "runs-queue-backfills" in diff  # removed
    assert "runs-queue-nightly" in diff  # added
    changes = {
        (c.action, c.name): c
        for c in diff_plans(plan_document(before), plan_document(after)).changes
    }
    assert ("remove", "runs-queue-backfills") in changes
    assert ("add", "runs-queue-critical") in changes
    default = changes[("update", "runs-queue-default")]
    assert [(i.key, i.before, i.after) for i in default.inputs] == [("priority", 3, 4)]
    pool = changes[("update", "runs-work-pool")]
    assert {i.key for i in pool.inputs} >= {"template_pins", "template_bounds"}


def test_bad_queues_and_interface_are_refused_before_anything_is_declared() -> None:
    problems = config_problems(
        config(
            work_queues=[
                {"name": "a", "priority": 1},
                {"name": "a", "priority": 1},
            ],
            job_variables={"pin": {"cpu": 1}, "default": {"cpu": 2}},
        )
    )
    key = "pushpools:pools[0].prefect"
    assert problems == [
        f"{key}.work_queues: work_queues[1].name 'a' is already the name of work_queues[0]; "
        "queue names must be unique; work_queues[1].priority 1 is already the priority of "
        "work_queues[0]; Prefect keeps priorities unique within a pool",
        f"{key}.job_variables: 'cpu' is pinned and in default: a pinned variable cannot be "
        "set by deployments, so it takes no default; keep one",
    ]


def test_with_a_template_file_undeclared_variables_are_refused_up_front(tmp_path: Path) -> None:
    template = {
        "job_configuration": {"region": "{{ region }}", "image": "{{ image }}"},
        "variables": {
            "properties": {
                "credentials": {"type": "object"},
                "region": {"type": "string"},
                "image": {"type": "string"},
            }
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))

    problems = config_problems(
        config(
            base_job_template_file=str(path),
            job_variables={"pin": {"regoin": "x"}, "bound": {"image": {"pattern": "^a"}}},
        )
    )

    assert problems == [
        f"pushpools:pools[0].prefect.job_variables.pin.regoin: the template {str(path)!r} "
        "declares no variable 'regoin'; its variables: credentials, image, region"
    ]


def test_pinning_a_default_needs_a_declared_variable_that_pushpools_sets() -> None:
    from pushpools.components.prefect.templates import TemplateError, render_template

    template = {
        "job_configuration": {"region": "{{ region }}", "image": "{{ image }}"},
        "variables": {"properties": {"region": {"type": "string"}, "image": {"type": "string"}}},
    }
    with pytest.raises(TemplateError) as caught:
        render_template(template, {"region": "eu"}, pinned_defaults=["regoin", "image"])

    assert str(caught.value) == (
        "the base job template has no variable 'regoin' to pin; pushpools sets no default "
        "for 'image' on this pool to pin; pin a value instead; its variables: image, region"
    )
    pinned = render_template(template, {"region": "eu"}, pinned_defaults=["region"])
    assert pinned["job_configuration"]["region"] == "eu"
    assert "region" not in pinned["variables"]["properties"]
