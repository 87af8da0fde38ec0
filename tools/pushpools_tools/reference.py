"""Regenerate the docs' reference tables and the stack file's JSON Schema from the models.

    .venv/bin/python -m pushpools_tools.reference

rewrites, in the pages of docs/, every region between `<!-- reference:<id>:start -->` and
`<!-- reference:<id>:end -->` (the prose around them is the pages' own), and writes
docs/stack-file.schema.json. The regions:

- `stack` and `pool`: the stack-level keys and each pool's keys;
- `prefect` and `pool-prefect`: the Prefect registration's keys, stack-wide and per pool;
- `settings:<section>`: one per kind of pool in the registry (`settings:gcp`, ...): the keys
  of its section, on whichever page holds that region;
- `components`: each component's arguments and outputs, from the component package schema.

A kind added to the registry needs only its region placed on a page: a page without it is
an error that says so. tests/test_docs_reference.py fails when anything here is stale.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pushpools.components.config.pool_types import KINDS
from pushpools.components.config.prefect import PoolPrefectSettings, PrefectSettings
from pushpools.components.config.stack import PoolConfig
from pushpools_tools import reference_tables as tables
from pushpools_tools.stack_schema import stack_file_schema

# The checkout whose docs are rewritten: this module's own (`./dev` installs the tools
# editable), or, for an installed copy, the current folder.
PROJECT_DIR = next(
    (
        folder
        for folder in (Path(__file__).resolve().parents[2], Path.cwd())
        if (folder / "Pulumi.yaml").is_file() and (folder / "docs").is_dir()
    ),
    Path.cwd(),
)
DOCS_DIR = PROJECT_DIR / "docs"
SCHEMA_FILE = DOCS_DIR / "stack-file.schema.json"
COMMAND = ".venv/bin/python -m pushpools_tools.reference"

_MARKER = re.compile(r"^<!-- reference:(?P<id>[a-z0-9:-]+):(?P<edge>start|end) -->$", re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


class ReferenceError(Exception):
    """The docs' regions are not where the generator needs them."""


@dataclass(frozen=True)
class Location:
    page: Path
    heading: str
    """The heading the region sits under."""
    anchor: str
    """That heading's GitHub anchor."""
    title: str
    """The page's title (its first heading)."""


def region_ids() -> list[str]:
    return (
        ["stack", "pool", "prefect", "pool-prefect"]
        + [f"settings:{kind.cloud.value}" for kind in KINDS]
        + ["components"]
    )


def documented_models() -> dict[type[BaseModel], str]:
    """Model -> the region whose table documents it (other tables link there)."""
    models: dict[type[BaseModel], str] = {
        PoolConfig: "pool",
        PrefectSettings: "prefect",
        PoolPrefectSettings: "pool-prefect",
    }
    for kind in KINDS:
        models[kind.settings_model()] = f"settings:{kind.cloud.value}"
    return models


def locate(docs_dir: Path = DOCS_DIR) -> dict[str, Location]:
    """Where each region is; every known region exactly once, no unknown one."""
    found: dict[str, Location] = {}
    problems = []
    for page in sorted(docs_dir.glob("*.md")):
        text = page.read_text()
        headings = list(_headings(text))
        title = headings[0][2] if headings else page.stem
        for match in _MARKER.finditer(text):
            region = match["id"]
            if region not in region_ids():
                problems.append(f"{page.name}: unknown region {region!r}")
            elif match["edge"] == "end":
                continue
            elif region in found:
                problems.append(
                    f"{page.name}: region {region!r} is also in {found[region].page.name}"
                )
            elif _end(region) not in text[match.end() :]:
                problems.append(f"{page.name}: region {region!r} has no end marker {_end(region)}")
            else:
                above = [h for h in headings if h[0] < match.start()]
                heading, anchor = (above[-1][2], above[-1][3]) if above else (title, "")
                found[region] = Location(page, heading, anchor, title)
    for region in region_ids():
        if region not in found:
            problems.append(
                f"no page of {docs_dir} holds region {region!r}: add {_start(region)} and "
                f"{_end(region)} where its table belongs"
            )
    if problems:
        raise ReferenceError("\n".join(problems))
    return found


def render(schema: Mapping[str, Any], locations: Mapping[str, Location]) -> dict[str, str]:
    """Region -> its generated Markdown. `schema`: the component package schema."""
    where = documented_models()

    def link_from(region: str) -> tables.Link:
        def link(model: type[BaseModel]) -> str | None:
            target = where.get(model)
            if target is None or target == region:
                return None
            return _link(locations[region], locations[target])

        return link

    rendered = {
        "stack": tables.table("Key", tables.stack_rows(link_from("stack"))),
        "pool": tables.table(
            "Key (under `pushpools:pools[]`)", tables.pool_rows(link_from("pool"))
        ),
        "prefect": tables.table(
            "Key", tables.model_rows(PrefectSettings, prefix="pushpools:prefect.")
        ),
        "pool-prefect": tables.table(
            "Key (under `pools[].prefect`)", tables.model_rows(PoolPrefectSettings)
        ),
        "components": tables.component_tables(schema),
    }
    for kind in KINDS:
        section = kind.cloud.value
        rendered[f"settings:{section}"] = tables.table(
            f"Key (under `pools[].{section}`)",
            tables.model_rows(kind.settings_model(), defaults=tables.name_defaults(kind)),
        )
    return rendered


def updated_pages(schema: Mapping[str, Any], docs_dir: Path = DOCS_DIR) -> dict[Path, str]:
    """Each page that holds a region -> its text with every region regenerated."""
    locations = locate(docs_dir)
    rendered = render(schema, locations)
    pages: dict[Path, str] = {}
    for region, location in locations.items():
        text = pages.get(location.page, location.page.read_text())
        before, rest = text.split(_start(region), 1)
        after = rest.split(_end(region), 1)[1]
        pages[location.page] = f"{before}{_start(region)}\n{rendered[region]}{_end(region)}{after}"
    return pages


def schema_text() -> str:
    return json.dumps(stack_file_schema(), indent=2, ensure_ascii=False) + "\n"


def package_schema() -> dict[str, Any]:
    """The component package's schema, as `pulumi package add` reads it. Imported here
    only: the provider host's protobuf cannot share a process with google-api-core."""
    from pushpools.components.package import PushpoolsProvider

    return json.loads(PushpoolsProvider().schema or "{}")


def main() -> int:
    try:
        pages = updated_pages(package_schema())
    except ReferenceError as error:
        print(f"pushpools reference: {error}", file=sys.stderr)
        return 1
    pages[SCHEMA_FILE] = schema_text()
    for path, text in sorted(pages.items()):
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"rewrote {path.relative_to(PROJECT_DIR)}")
    return 0


def _start(region: str) -> str:
    return f"<!-- reference:{region}:start -->"


def _end(region: str) -> str:
    return f"<!-- reference:{region}:end -->"


def _link(source: Location, target: Location) -> str:
    if source.page == target.page:
        return f"[{target.heading}](#{target.anchor})"
    text = target.title if target.heading == target.title else f"{target.title}: {target.heading}"
    anchor = f"#{target.anchor}" if target.heading != target.title else ""
    return f"[{text}]({target.page.name}{anchor})"


def _headings(text: str) -> list[tuple[int, int, str, str]]:
    """(offset, level, text, GitHub anchor) of each heading outside fenced code."""
    found = []
    seen: dict[str, int] = {}
    fence = ""
    offset = 0
    for line in text.splitlines(keepends=True):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            fence = "" if fence == marker else (fence or marker)
        elif not fence and (match := _HEADING.match(line.rstrip("\n"))):
            base = _slug(match[2])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.append(
                (offset, len(match[1]), match[2], base if not count else f"{base}-{count}")
            )
        offset += len(line)
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to dashes."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


if __name__ == "__main__":
    sys.exit(main())
