"""Real Prefect servers for tests and benchmarks, and a loopback proxy in front of them.

`PrefectServer` runs `prefect server start` (the version in the lock) on a free port of
127.0.0.1 with its own temporary PREFECT_HOME (SQLite) and `--no-services`, waits for
/api/health, and always kills its whole process group. `LoopbackProxy` forwards to it and
records every request; it can also play Prefect Cloud (a Bearer key and the
/api/accounts/<id>/workspaces/<id> prefix) or a failing server (503s).
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFECT = Path(sys.executable).with_name("prefect")
START_TIMEOUT_SECONDS = 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrefectServer:
    """One `prefect server start` process; `start()` returns at once, `wait_ready()` blocks."""

    def __init__(self, name: str = "prefect", auth_string: str | None = None) -> None:
        self.name = name
        self.auth_string = auth_string
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix=f"pushpools-{name}-"))
        self.log_path = self.home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._ready = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> PrefectServer:
        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"):
            env.pop(key, None)
        if self.auth_string:
            env["PREFECT_SERVER_API_AUTH_STRING"] = self.auth_string
        with self.log_path.open("wb") as log:
            # A session of its own: stop() kills the server and every child it spawned.
            command = [str(PREFECT), "server", "start", "--no-services", "--host", "127.0.0.1"]
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> PrefectServer:
        if self._ready:
            return self
        assert self.process is not None, "start() the server first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail(f"exited with code {self.process.returncode}")
            if self._healthy():
                self._ready = True
                return self
            time.sleep(0.5)
        self._fail(f"was not healthy after {timeout:.0f} s")
        raise AssertionError("unreachable")

    def _healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def _fail(self, what: str) -> None:
        log = self.log_path.read_text(errors="replace")[-6000:]
        self.stop()
        raise RuntimeError(f"Prefect server {self.name!r} {what}; its log:\n{log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int


def is_write(method: str, path: str) -> bool:
    """A request that changes something in Prefect (`.../filter` POSTs only read)."""
    return method in ("POST", "PUT", "PATCH", "DELETE") and not path.rstrip("/").endswith("/filter")


_CLOUD_PREFIX = re.compile(r"^/api/accounts/[0-9a-f-]{36}/workspaces/[0-9a-f-]{36}(/.*)?$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class LoopbackProxy:
    """A threaded HTTP proxy on 127.0.0.1 that records every request it forwards.

    - `cloud_key`: play Prefect Cloud: demand `Authorization: Bearer <cloud_key>` and serve
      /api/accounts/<uuid>/workspaces/<uuid>/... from the server's /api/...
    - `fault(method, path) -> status | None`: answer with that status instead of forwarding;
      with `echo_body`, the answer quotes the request back, as validation errors do.
    """

    def __init__(
        self,
        upstream_api_url: str,
        *,
        cloud_key: str | None = None,
        fault: Callable[[str, str], int | None] | None = None,
        echo_body: bool = False,
    ) -> None:
        upstream = urlsplit(upstream_api_url)
        self.upstream_host = upstream.hostname or "127.0.0.1"
        self.upstream_port = upstream.port or 80
        self.cloud_key = cloud_key
        self.fault = fault
        self.echo_body = echo_body
        self.echoed = False
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def cloud_api_url(self, account: str, workspace: str) -> str:
        return f"{self.api_url}/accounts/{account}/workspaces/{workspace}"

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if is_write(s.method, s.path)]

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            upstream: http.client.HTTPConnection | None = None

            def log_message(self, *_: object) -> None:  # quiet: no request lines in test logs
                pass

            def finish(self) -> None:
                if self.upstream is not None:
                    self.upstream.close()
                super().finish()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                target = self.path
                if proxy.cloud_key is not None:
                    if self.headers.get("Authorization") != f"Bearer {proxy.cloud_key}":
                        return self._answer(401, {"detail": "Invalid authentication credentials"})
                    match = _CLOUD_PREFIX.match(path)
                    if not match:
                        return self._answer(404, {"detail": "Not Found"})
                    rest = self.path[len(path) - len(match.group(1) or "") :]
                    target = "/api" + rest
                    path = target.split("?", 1)[0]
                status = proxy.fault(self.command, path) if proxy.fault else None
                if status is not None:
                    return self._answer(status, self._fault_document(body), path)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in _HOP_BY_HOP
                    and not (proxy.cloud_key is not None and k.lower() == "authorization")
                }
                # One upstream connection per client connection, kept alive like it.
                upstream = self.upstream
                if upstream is None:
                    upstream = http.client.HTTPConnection(
                        proxy.upstream_host, proxy.upstream_port, timeout=60
                    )
                    self.upstream = upstream
                try:
                    upstream.request(self.command, target, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException):
                    upstream.close()
                    self.upstream = None
                    raise
                proxy._record(self.command, path, response.status)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None

            def _fault_document(self, body: bytes) -> dict[str, Any]:
                if not (proxy.echo_body and body):
                    return {"detail": "injected by the test proxy"}
                proxy.echoed = True
                sent = json.loads(body)
                # FastAPI's validation errors quote the offending input like this.
                return {
                    "exception_message": "Invalid request received.",
                    "exception_detail": [
                        {"loc": ["body", "data"], "msg": "rejected", "input": sent}
                    ],
                    "detail": [{"loc": ["body", "data"], "msg": "rejected", "input": sent}],
                    "request_body": sent,
                }

            def _answer(self, status: int, document: dict[str, Any], path: str = "") -> None:
                proxy._record(self.command, path or self.path.split("?", 1)[0], status)
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

        return Handler
