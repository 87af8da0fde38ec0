from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The pack's package and these helpers, importable without installing the pack.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.plans import SHIPPED_STACKS, plans


@pytest.fixture(scope="session")
def shipped_plans() -> dict[str, dict[str, Any]]:
    return plans(SHIPPED_STACKS)
