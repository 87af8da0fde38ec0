"""The stack config is validated once per stack: the loader validates each pool once, and
the stack program hands each component its validated pool (nothing is flattened into args
and validated again)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from pushpools.components.config.pool_types import KINDS
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import load_stack
from tests.harness import PROJECT_DIR


def test_every_pool_of_the_dev_stack_is_validated_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Resolving physical names is the last step of validating a pool's section: count it.
    resolved: Counter[str] = Counter()
    for kind in KINDS:
        model = kind.settings_model()
        original = getattr(model, "resolve_names", None)
        if original is None:
            continue

        def counting(self: Any, pool_name: str, naming: Any, _original: Any = original) -> Any:
            resolved[pool_name] += 1
            return _original(self, pool_name, naming)

        monkeypatch.setattr(model, "resolve_names", counting)
    settings = load_stack(PROJECT_DIR, PROJECT_DIR / "stacks" / "Pulumi.dev.yaml", "dev")
    run_stack(PROJECT_DIR, settings)
    assert resolved == {"dev-cloud-run": 1, "dev-aci": 1, "dev-ecs": 1, "dev-managed": 1}
