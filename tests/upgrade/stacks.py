"""The stacks whose plans are recorded: the shipped stacks, the benchmark stacks, and one
stack that registers every pool type in Prefect (so the Prefect objects are covered too)."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
RECORDED_DIR = Path(__file__).resolve().parent / "recorded"
DIGEST_KEY = "pushpools-upgrade-test"
"""A fixed key for the plan's secret digests: a change to any secret's content (a block's
data layout, a key's source) shows as a changed digest, while no secret is ever written."""

STACK_FILES: dict[str, Path] = {
    "dev": PROJECT_DIR / "stacks" / "Pulumi.dev.yaml",
    "prod": PROJECT_DIR / "stacks" / "Pulumi.prod.yaml",
    "bench-aws-only": PROJECT_DIR / "benchmarks" / "stacks" / "aws-only.yaml",
    "bench-azure-only": PROJECT_DIR / "benchmarks" / "stacks" / "azure-only.yaml",
    "bench-gcp-only": PROJECT_DIR / "benchmarks" / "stacks" / "gcp-only.yaml",
    "registered": Path(__file__).resolve().parent / "stacks" / "Pulumi.registered.yaml",
}
