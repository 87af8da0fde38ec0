"""A Mermaid diagram of a plan: per pool, its resources and what waits for what.

GitHub renders Mermaid in pull-request comments and READMEs. Edges point from a
resource to the resources that wait for it; the critical path (the longest chain
`pulumi up` must create one after another) is drawn with thick arrows.
"""

from __future__ import annotations

import itertools
from typing import Any

from pushpools_tools.graph import Node, ResourceGraph

# One style per kind: grants and policies stand out, as a reviewer looks at them first.
_STYLES = {
    "grant": "fill:#fde2e1,stroke:#c0392b",
    "policy": "fill:#fde2e1,stroke:#c0392b,stroke-dasharray:4",
    "identity": "fill:#fff4d6,stroke:#b7950b",
    "credential": "fill:#fff4d6,stroke:#b7950b,stroke-dasharray:4",
    "prefect": "fill:#e0e7ff,stroke:#3f51b5",
    "resource": "fill:#eef6ee,stroke:#2e7d32",
}


def mermaid(document: dict[str, Any]) -> str:
    """The diagram of one stack's plan, as a Mermaid `flowchart`."""
    graph = ResourceGraph(document)
    order = {urn: index for index, urn in enumerate(graph.nodes)}
    ids = {urn: f"r{index}" for urn, index in order.items()}
    critical = set()
    for pool in graph.pools:
        path = graph.critical_path(pool)
        critical |= {(a.urn, b.urn) for a, b in itertools.pairwise(path)}
    lines = ["flowchart LR"]
    groups: list[str | None] = [*graph.pools, None]
    for pool in groups:
        nodes = graph.pool_nodes(pool)
        if not nodes:
            continue
        indent = "    " if pool is not None else "  "
        if pool is not None:
            lines.append(f'  subgraph {_pool_id(pool)}["pool {_escape(pool)}"]')
        lines += [f"{indent}{ids[n.urn]}{_label(n)}:::{n.kind}" for n in nodes]
        if pool is not None:
            lines.append("  end")
    for first, then in sorted(graph.edges, key=lambda e: (order[e[0]], order[e[1]])):
        arrow = "==>" if (first, then) in critical else "-->"
        lines.append(f"  {ids[first]} {arrow} {ids[then]}")
    lines += [f"  classDef {kind} {style}" for kind, style in _STYLES.items()]
    return "\n".join(lines) + "\n"


def critical_paths_markdown(document: dict[str, Any]) -> str:
    """Per pool: how many resources must be created one after another, and which."""
    graph = ResourceGraph(document)
    rows = ["| pool | resources | critical path (steps) | chain |", "|---|---:|---:|---|"]
    for pool in graph.pools:
        path = graph.critical_path(pool)
        chain = " → ".join(f"`{n.name}`" for n in path)
        rows.append(f"| {pool} | {len(graph.pool_nodes(pool))} | {len(path)} | {chain} |")
    return "\n".join(rows) + "\n"


def _label(node: Node) -> str:
    # The type's last part is enough to tell a role from a bucket; the name is unique.
    short = node.type.rsplit(":", 1)[-1]
    return f'["{_escape(node.name)}<br/><small>{_escape(short)}</small>"]'


def _pool_id(pool: str) -> str:
    return "pool_" + "".join(c if c.isalnum() else "_" for c in pool)


def _escape(text: str) -> str:
    # Mermaid labels are quoted: a quote or angle bracket inside would end or break them.
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
