"""docs/library.md's argument and output tables are the package schema, not a copy that drifts.

Regenerate after changing an args class: `.venv/bin/python tests/test_readme_reference.py`
rewrites the tables between the markers in docs/library.md.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "library.md"
START, END = "<!-- component-reference:start -->", "<!-- component-reference:end -->"


# (class, module) in the order the page shows them.
COMPONENTS = [
    ("CloudRunPushPool", "pushpools.components.gcp.pool"),
    ("EcsPushPool", "pushpools.components.aws.pool"),
    ("AciPushPool", "pushpools.components.azure.pool"),
    ("ModalPushPool", "pushpools.components.modal.pool"),
    ("ManagedPool", "pushpools.components.managed.pool"),
    ("CoiledPushPool", "pushpools.components.coiled.pool"),
]


def render(schema: dict[str, Any]) -> str:
    parts = []
    for component, module in COMPONENTS:
        resource = schema["resources"][f"pushpools:index:{component}"]
        required = set(resource.get("requiredInputs", []))
        parts += [
            f"### `{component}` (`{module}`)",
            "",
            "| Argument (Python / other languages) | Type | Required | Description |",
            "|---|---|---|---|",
        ]
        for name, prop in resource["inputProperties"].items():
            parts.append(
                f"| `{_snake(name)}` / `{name}` | {_type(schema, prop, True)} | "
                f"{'yes' if name in required else 'no'} | {_cell(prop['description'])} |"
            )
        parts += ["", "| Output | Type | Secret | Description |", "|---|---|---|---|"]
        for name, prop in resource["properties"].items():
            parts.append(
                f"| `{_snake(name)}` / `{name}` | {_type(schema, prop, False)} | "
                f"{'yes' if prop.get('secret') else 'no'} | {_cell(prop['description'])} |"
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _type(schema: dict[str, Any], prop: dict[str, Any], is_input: bool) -> str:
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        declared = schema["types"][ref.removeprefix("#/types/")]
        name = ref.rsplit(":", 1)[-1]
        if "enum" in declared:
            text = " \\| ".join(f"`{v['value']}`" for v in declared["enum"])
        else:
            text = f"`{name}`"
    elif prop.get("type") == "array":
        text = f"list of {prop['items'].get('type', 'any')}"
    elif prop.get("type") == "object":
        text = f"map of {prop.get('additionalProperties', {}).get('type', 'any')}"
    else:
        text = prop.get("type", "any")
    # An input the schema does not mark plain may be another resource's output.
    return f"{text} (Input)" if is_input and not prop.get("plain") else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def test_the_reference_tables_are_the_schema() -> None:
    from host_process import host_schema

    schema = host_schema()
    page = PAGE.read_text()
    assert START in page
    assert END in page
    documented = page.split(START, 1)[1].split(END, 1)[0].strip() + "\n"
    assert documented == render(schema), f"{PAGE.name} is stale: run tests/test_readme_reference.py"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from pushpools.components.package import PushpoolsProvider

    before, rest = PAGE.read_text().split(START, 1)
    after = rest.split(END, 1)[1]
    tables = render(json.loads(PushpoolsProvider().schema or "{}"))
    PAGE.write_text(f"{before}{START}\n{tables}\n{END}{after}")
