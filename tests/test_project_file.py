"""Pulumi.yaml: what `pulumi up` relies on, and what it must not enforce."""

from __future__ import annotations

import yaml
from harness import PROJECT_DIR

from pushpools.components.config.stack import StackConfig
from pushpools.components.loader import SECRET_KEYS

PROJECT = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())


def test_runs_the_python_program_with_uv_and_reads_stacks_from_stacks() -> None:
    assert PROJECT["name"] == "pushpools"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert PROJECT["stackConfigDir"] == "stacks"
    assert (PROJECT_DIR / "stacks" / "Pulumi.dev.yaml").is_file()


def test_declares_no_project_config_the_cli_would_enforce() -> None:
    # Declared keys without defaults become required in every stack, and undeclared
    # `pushpools:` keys (a Modal pool's own token key names) would be refused.
    assert "config" not in PROJECT


def test_documents_every_fixed_key_and_marks_the_secret_ones() -> None:
    documented = PROJECT["template"]["config"]
    fixed_keys = {f"pushpools:{k}" for k in StackConfig.model_fields} | {
        f"pushpools:{k}" for k in SECRET_KEYS
    }
    assert fixed_keys == set(documented)
    for key in SECRET_KEYS:
        assert documented[f"pushpools:{key}"]["secret"] is True
    assert all(entry["description"] for entry in documented.values())
