"""The component provider host's in-process checks, run in a process of their own.

`pulumi.provider.server` (which the host needs) registers its own copy of the protobuf
message `google.rpc.Status`, and google-api-core (which prefect-gcp uses) registers the
same symbol from another file: the two cannot be imported into one process. The plugin
never imports google-api-core, but the test session does, so the host's checks run in a
child Python: the same code, no CLI, no gRPC.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from harness import PROJECT_DIR

_SCHEMA = """
from pushpools.components.package import PushpoolsProvider
print(PushpoolsProvider().schema)
"""

_CONSTRUCT = """
import json, sys
import pulumi
from pushpools.components.package import PushpoolsProvider
from pushpools_tools.engine import ProgramRun, run_program

resource_type, name, props = json.loads(sys.argv[1])
record = ProgramRun(project="ts-program", stack="dev")


def program():
    result = PushpoolsProvider().construct(name, resource_type, props, None)
    for key, value in result.state.items():
        pulumi.export(key, value)


error = None
try:
    run_program(program, project="ts-program", stack="dev", config={}, secret_keys=[],
                record=record)
except Exception as caught:
    error = f"{type(caught).__name__}: {caught}"
print(json.dumps({
    "error": error,
    "resources": [
        {"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent, "custom": r.custom,
         "inputs": r.inputs}
        for r in record.resources
    ],
    "outputs": record.outputs,
}))
"""


def _child(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def host_schema() -> dict[str, Any]:
    """The schema the host infers from the components (`ComponentProvider.schema`)."""
    return json.loads(_child(_SCHEMA))


def construct(resource_type: str, name: str, props: dict[str, Any]) -> dict[str, Any]:
    """A Construct as the engine sends it for a program in another language, on the offline
    engine: {"error", "resources" (type, name, urn, parent, custom, inputs), "outputs"};
    secrets keep their wire markers."""
    return json.loads(_child(_CONSTRUCT, json.dumps([resource_type, name, props])))
