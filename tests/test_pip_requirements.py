"""Managed pools' `pip_packages`: the quick pattern never changes `packaging`'s verdict."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from pushpools.components.managed.pip_requirements import is_pip_requirement

NAMES = ["pandas", "prefect-aws", "my_pkg.sub", "A1", "a", "a..b", "_a", "a-", "-a", "1"]
EXTRAS = ["", "[s3]", "[s3,ecs]", "[s3, ecs]", "[]", "[,s3]", "[s3,]", "[-x]", "[s3"]
VERSIONS = [
    "",
    ">=2",
    ">=2,<3",
    "==0.7.1",
    "!=1",
    "~=1.4",
    "~=1",
    "==1.*",
    ">=1.0.*",
    ">=1a1",
    "==1.",
    "==.1",
    "===1",
    "<3,",
    ",<3",
    ">= 2",
    "==1+local",
    "==v1",
    "==1.0.post1",
    ">=2<3",
    " @ https://example.com/p.whl",
    "; python_version < '3.12'",
]
CORPUS = ["".join(parts) for parts in itertools.product(NAMES, EXTRAS, VERSIONS)]


def _packaging_accepts(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


def test_the_verdict_is_packagings_on_every_combination() -> None:
    disagreements = [t for t in CORPUS if is_pip_requirement(t) != _packaging_accepts(t)]
    assert disagreements == []
    # The corpus holds both verdicts, and entries only `packaging` can judge.
    assert 0 < sum(map(is_pip_requirement, CORPUS)) < len(CORPUS)


@pytest.mark.parametrize("text", ["pandas>=2,<3", "prefect-aws[s3,ecs]==0.7.1", "httpx"])
def test_a_plain_requirement_is_judged_without_importing_packaging(text: str) -> None:
    # Importing packaging's requirement grammar is 20 ms of a plan (docs/benchmarks.md).
    code = (
        "import sys\n"
        "from pushpools.components.managed.pip_requirements import is_pip_requirement\n"
        f"assert is_pip_requirement({text!r})\n"
        "print('packaging.requirements' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
