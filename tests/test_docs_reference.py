"""The docs' reference tables are generated from the models, never a copy that drifts.

Regenerate after changing a settings model, an args class or the registry:
`.venv/bin/python -m pushpools_tools.reference` rewrites every region between
`<!-- reference:<id>:start -->` and `<!-- reference:<id>:end -->` in docs/ (and the stack
file's JSON Schema, checked in test_stack_file_schema.py).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import PROJECT_DIR
from host_process import host_schema

from pushpools.components.azure import settings as azure_settings
from pushpools.components.config import PoolConfig
from pushpools.components.config.pool_types import KINDS
from pushpools.components.naming import Naming
from pushpools_tools import reference
from pushpools_tools.reference_tables import name_defaults

# The valid stack files in the repository: every kind of pool, with and without names set.
STACK_FILES = [
    *sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml")),
    *sorted((PROJECT_DIR / "benchmarks" / "stacks").glob("*.yaml")),
    PROJECT_DIR / "tests" / "upgrade" / "stacks" / "Pulumi.registered.yaml",
    PROJECT_DIR / "policy" / "tests" / "stacks" / "Pulumi.keyless.yaml",
    PROJECT_DIR / "tests" / "coiled" / "Pulumi.coiled-setup.yaml",
    PROJECT_DIR / "tests" / "stacks" / "Pulumi.aci-private.yaml",
    PROJECT_DIR / "tests" / "stacks" / "Pulumi.private-network.yaml",
    PROJECT_DIR / "tests" / "stacks" / "Pulumi.secret-store.yaml",
]
# The stack files' client-secret dates are judged against this day.
TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return host_schema()


def test_every_generated_region_is_current(schema: dict[str, Any]) -> None:
    stale = [
        str(page.relative_to(PROJECT_DIR))
        for page, text in reference.updated_pages(schema).items()
        if page.read_text() != text
    ]
    assert stale == [], f"stale: {', '.join(stale)}; run `{reference.COMMAND}`"


def test_every_kind_of_pool_has_its_settings_table_on_a_page() -> None:
    located = reference.locate()
    for kind in KINDS:
        assert f"settings:{kind.cloud.value}" in located
    assert located["settings:gcp"].page.name == "gcp-cloud-run.md"
    assert located["settings:aws"].page.name == "aws-ecs.md"
    assert located["components"].page.name == "library.md"


def test_a_page_without_a_kinds_region_is_an_error_that_says_what_to_add(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(PROJECT_DIR / "docs", docs)
    page = docs / "modal-and-managed.md"
    text = page.read_text()
    start = text.index("<!-- reference:settings:modal:start -->")
    end = text.index("<!-- reference:settings:modal:end -->") + len(
        "<!-- reference:settings:modal:end -->"
    )
    page.write_text(text[:start] + text[end:])
    with pytest.raises(reference.ReferenceError) as caught:
        reference.locate(docs)
    assert "region 'settings:modal'" in str(caught.value)
    assert "<!-- reference:settings:modal:start -->" in str(caught.value)


def test_nested_settings_are_shown_with_their_keys() -> None:
    gcp = (PROJECT_DIR / "docs" / "gcp-cloud-run.md").read_text()
    assert "| `names.repository` | string | `<pool>-images` (helper: `prefect-images`) |" in gcp
    library = (PROJECT_DIR / "docs" / "library.md").read_text()
    assert "| `network.vpc_id` / `network.vpcId` | string (Input) | unset |" in library
    assert "| `ecr.keep_last_images` / `ecr.keepLastImages` | integer | `100` |" in library
    assert "`aws_federated_identity.statements[].actions`" in library


@pytest.mark.parametrize("naming", [Naming.DERIVED, Naming.HELPER])
def test_the_documented_default_names_are_the_names_pools_get(
    naming: Naming, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(azure_settings, "today_utc", lambda: TODAY)
    checked: set[str] = set()
    for path in STACK_FILES:
        for raw in yaml.safe_load(path.read_text())["config"]["pushpools:pools"]:
            kind = PoolConfig.model_validate(raw).kind
            if not kind.creates_cloud_resources and naming is Naming.HELPER:
                continue  # such pools take no `naming`
            pool = PoolConfig.model_validate(
                {**raw, "naming": naming.value} if kind.creates_cloud_resources else raw
            )
            section = getattr(pool, kind.cloud.value)
            for key, text in name_defaults(kind).items():
                if _value(raw.get(kind.cloud.value) or {}, key) is not None:
                    continue  # set in the stack file: not a default
                actual = _value(section.model_dump(), key)
                if actual is None:
                    continue  # the section it belongs to is absent
                derived, _, helper = text.partition(" (helper: ")
                expected = helper.strip("`)") if naming is Naming.HELPER and helper else derived
                assert actual == expected.strip("`").replace("<pool>", pool.name), (path, key)
                checked.add(f"{kind.cloud.value}.{key}")
    # Every documented default was compared with a real pool's name (a kind that names
    # nothing takes no `naming`, so it has no helper names to compare).
    documented = {
        f"{k.cloud.value}.{key}"
        for k in KINDS
        if naming is Naming.DERIVED or k.creates_cloud_resources
        for key in name_defaults(k)
    }
    assert documented <= checked, documented - checked
    # ...and every kind that fills in names has them documented.
    names_filled = {
        k.cloud.value
        for k in KINDS
        if hasattr(k.settings_model(), "resolve_names")
        and (naming is Naming.DERIVED or k.creates_cloud_resources)
    }
    assert {d.split(".")[0] for d in documented} == names_filled


def _value(section: dict[str, Any], key: str) -> Any:
    value: Any = section
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
