"""What decides how `pulumi up` replaces and destroys resources is recorded and shown: the
resource options, and URNs formed as the real engine forms them."""

from __future__ import annotations

import pulumi
import pytest

from pushpools_tools.engine import ProgramRun, in_creation_order, run_program
from pushpools_tools.plan import plan_document, render_text, run_stack
from pushpools_tools.stackfile import load_stack
from tests.harness import PROJECT_DIR
from tests.upgrade.stacks import STACK_FILES

# A rotation must never leave the block without a working credential: the new key is
# created (and handed to the block) before the old one is deleted.
BLOCK = "pulumi-python:dynamic/prefect:Block"
WORK_POOL = "pulumi-python:dynamic/prefect:WorkPool"
KEYS_AND_SECRETS = (
    "gcp:serviceaccount/key:Key",
    "aws:iam/accessKey:AccessKey",
    "azuread:index/applicationPassword:ApplicationPassword",
)


@pytest.fixture(scope="module", params=["dev", "prod", "registered"])
def planned(request: pytest.FixtureRequest) -> ProgramRun:
    settings = load_stack(PROJECT_DIR, STACK_FILES[request.param], stack=request.param)
    return run_stack(PROJECT_DIR, settings)


def test_every_key_and_secret_is_replaced_create_before_delete(planned: ProgramRun) -> None:
    keys = [r for r in planned.resources if r.type in KEYS_AND_SECRETS]
    assert keys
    for key in keys:
        assert "delete_before_replace" not in key.options, key.urn


def test_the_plan_shows_which_resources_destroy_would_stop_at() -> None:
    settings = load_stack(PROJECT_DIR, STACK_FILES["prod"], stack="prod")
    run = run_stack(PROJECT_DIR, settings)
    document = plan_document(run)
    protected = {r["name"] for r in document["resources"] if r.get("options", {}).get("protect")}
    assert protected == {"prod-cloud-run-images", "prod-ecs-images", "prod-aci-registry"}
    assert "(option) protect: true" in render_text(run)


def test_urns_are_the_engines_top_level_and_nested() -> None:
    from pushpools.components.modal.pool import ModalPushPool

    def program() -> None:
        team = pulumi.ComponentResource("acme:platform:Team", "data", None)
        env = pulumi.ComponentResource(
            "acme:platform:Env", "prod", None, pulumi.ResourceOptions(parent=team)
        )
        ModalPushPool(
            "gpu",
            {"token_id": "ak-x", "token_secret": "as-x"},
            pulumi.ResourceOptions(parent=env),
        )
        ModalPushPool("top", {"token_id": "ak-y", "token_secret": "as-y"})

    run = run_program(program, project="mine", stack="dev", config={}, secret_keys=[])
    urns = {r.name: r.urn for r in run.resources}
    # The root stack's type is never part of a child's type chain...
    assert urns["top"] == "urn:pulumi:dev::mine::pushpools:modal:ModalPushPool::top"
    assert urns["data"] == "urn:pulumi:dev::mine::acme:platform:Team::data"
    # ...and a nested resource's type carries its parents' whole chain.
    assert urns["gpu"] == (
        "urn:pulumi:dev::mine::acme:platform:Team$acme:platform:Env"
        "$pushpools:modal:ModalPushPool::gpu"
    )
    assert not [u for u in urns.values() if "pulumi:pulumi:Stack$" in u]


def test_the_plan_diff_shows_a_changed_option() -> None:
    from pushpools_tools.diff import diff_plans
    from pushpools_tools.diff import render_text as render_diff
    from tests.harness import run_pools

    def plan(delete_images: bool) -> dict:
        pool = {
            "name": "ml",
            "type": "cloud-run:push",
            "gcp": {"project": "acme-data-dev", "delete_images_on_destroy": delete_images},
        }
        return plan_document(run_pools(pool))

    text = render_diff(diff_plans(plan(False), plan(True)))
    assert "ml-images" in text
    assert "(option) protect" in text


def test_destroy_deletes_each_work_pool_before_its_block() -> None:
    """`pulumi destroy` deletes in reverse dependency order: a work pool must depend on its
    block (Prefect refuses to delete a block a pool's template references). Derived from
    the recorded graph, not asserted by deleting in that order here."""
    settings = load_stack(PROJECT_DIR, STACK_FILES["registered"], stack="registered")
    run = run_stack(PROJECT_DIR, settings)
    blocks = {r.name.removesuffix("-credentials-block"): r for r in run.find(BLOCK)}
    pools = {r.name.removesuffix("-work-pool"): r for r in run.find(WORK_POOL)}
    assert blocks
    # The engine deletes a resource only after everything that depends on it.
    order = [r.urn for r in reversed(in_creation_order(run.resources))]
    for name, block in blocks.items():
        assert block.urn in pools[name].dependencies
        assert order.index(pools[name].urn) < order.index(block.urn), name


def test_plan_secret_digests_are_keyed() -> None:
    """A digest without the key must say nothing of a short secret: the same secret under
    two keys gives two digests, and neither is its plain hash."""
    import hashlib

    from pushpools_tools.engine import secret
    from pushpools_tools.plan import masked

    value = secret("pnu_short")
    one, two = masked(value, b"key-one"), masked(value, b"key-two")
    assert one != two
    plain = hashlib.sha256(b'"pnu_short"').hexdigest()[:16]
    assert plain not in one
    assert plain not in two
    assert "pnu_short" not in one + two
