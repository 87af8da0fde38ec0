"""Starting a Pulumi plugin the way the engine does, for tests that talk to it over gRPC.

The engine starts a plugin (the Python language host's dynamic-provider server, or a
source-based component package) with no PYTHONPATH, reads the port it prints on its first
line, and talks gRPC to that port on loopback.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def plugin_port(
    argv: list[str], cwd: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[int]:
    """Run the plugin until the block ends; yield the port it serves on."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra_env or {})
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"{argv[:3]} printed no port: {line!r} {stderr}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
