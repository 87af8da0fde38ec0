"""The config models are pure: validating a stack config needs no Pulumi, no cloud SDK and
no file or secret; the loader (components/loader.py) is the only place that reads them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.harness import PROJECT_DIR

_PROBE = """
import json, sys
from pushpools.components.config.pool_types import KINDS
from pushpools.components.config.stack import StackConfig
for kind in KINDS:
    kind.settings_model()
StackConfig.model_json_schema()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_importing_and_using_every_config_model_loads_no_pulumi() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    top_level = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "pydantic" in top_level
    assert not {m for m in top_level if m == "pulumi" or m.startswith("pulumi_")}
