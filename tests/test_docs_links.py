"""Every relative link in the project's Markdown leads somewhere: the file exists and, for a
`#anchor`, a heading of that file has that GitHub slug.

README.md is a map into docs/; a moved or renamed section must not leave a dead link behind.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PROJECT_DIR

DOCS = sorted((PROJECT_DIR / "docs").glob("*.md"))
PAGES = [PROJECT_DIR / "README.md", PROJECT_DIR / "CHANGELOG.md", *DOCS]

# [text](target) and [text](target "title"); the text may hold `code` and nested [brackets].
INLINE_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"(`+).+?\1")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


def _prose(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fence = ""
    for line in text.splitlines():
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            if not fence:
                fence = marker
            elif marker == fence:
                fence = ""
            continue
        if not fence:
            yield line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to dashes."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN" or c.isdigit()
    )
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose(path.read_text()):
        found.update(HTML_ANCHOR.findall(line))
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[str]:
    for line in _prose(path.read_text()):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            yield definition.group(1)
            continue
        yield from INLINE_LINK.findall(CODE_SPAN.sub("", line))


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading in {linked.name} has the anchor #{anchor}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_every_docs_page_links_back_to_the_readme_and_the_readme_to_it() -> None:
    readme_targets = set(links(PROJECT_DIR / "README.md"))
    for page in DOCS:
        assert f"docs/{page.name}" in readme_targets, f"README's map lacks {page.name}"
        if page.name != "benchmarks.md":  # written by the benchmarks, section by section
            assert "../README.md" in list(links(page))[:1], f"{page.name}: no link back first"


def test_github_slugs() -> None:
    assert slug("Why pushpools, not `--provision-infra`") == "why-pushpools-not---provision-infra"
    assert slug("Modal (`modal:push`)") == "modal-modalpush"
    assert slug("Guardrails: the policy pack") == "guardrails-the-policy-pack"
    assert slug("`CloudRunPushPool` (`pushpools.components.cloud_run`)") == (
        "cloudrunpushpool-pushpoolscomponentscloud_run"
    )


def test_a_dead_anchor_or_file_is_caught(tmp_path: Path) -> None:
    """The check is live: a page with a wrong anchor, a missing file and a duplicate heading."""
    (tmp_path / "README.md").write_text("# Project\n\n## Documentation\n")
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "probe.md"
    page.write_text(
        "# Title\n\n## Outputs\n\n## Outputs\n\n"
        "[ok](#outputs-1) [ok](../README.md#documentation) `[code](#nowhere)`\n"
        "[bad](#outputs-2) [bad](missing.md) [bad](../README.md#nowhere)\n"
        "```\n[in code](#nowhere)\n```\n"
    )
    assert broken_links(page) == [
        "#outputs-2: no heading in probe.md has the anchor #outputs-2",
        "missing.md: no such file",
        "../README.md#nowhere: no heading in README.md has the anchor #nowhere",
    ]
