"""docs/benchmarks.md: each benchmark owns one section, between its own markers."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(marker: str, heading: str, body: str) -> None:
    """Put `body` between `<!-- marker:start -->` and `<!-- marker:end -->`, replacing what
    was there; the first time, append the section under `## heading`. The rest of the
    document (its prose, the other benchmarks' sections) is left as it is."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = f"{text.rstrip()}\n\n## {heading}\n\n{section}\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
