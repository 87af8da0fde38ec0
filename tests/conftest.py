"""Fixtures shared by the test modules.

Real Prefect servers are started at most once per session: one open server for most tests,
and one with an auth string for the tests that need it. Both start in parallel when the
session will use both (~30 s on a fresh database), and are always stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.clock import fixed_clock
from tests.prefect_server import PrefectServer

AUTH_STRING = "pushpools-test:correct-horse-battery-staple"

# This process's own Prefect client settings and profile stay out of the user's home.
_HOME = tempfile.mkdtemp(prefix="pushpools-tests-prefect-home-")
os.environ["PREFECT_HOME"] = _HOME


def pytest_sessionfinish() -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _fixed_day() -> Iterator[None]:
    """Every test runs on one fixed day (tests/clock.py): none breaks with the calendar.
    For the whole session, so that module-scoped fixtures see it too."""
    with fixed_clock():
        yield


@pytest.fixture(autouse=True)
def _no_prefect_connection_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's PREFECT_API_URL must not turn registration on in tests."""
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"):
        monkeypatch.delenv(name, raising=False)


class _Servers:
    def __init__(self, needed: set[str]) -> None:
        # Whatever the session will need starts now, side by side.
        self.open = PrefectServer("open").start() if "prefect_server" in needed else None
        self.auth = (
            PrefectServer("auth", AUTH_STRING).start() if "prefect_auth_server" in needed else None
        )

    def without_auth(self) -> PrefectServer:
        if self.open is None:
            self.open = PrefectServer("open").start()
        return self.open.wait_ready()

    def with_auth(self) -> PrefectServer:
        if self.auth is None:
            self.auth = PrefectServer("auth", AUTH_STRING).start()
        return self.auth.wait_ready()

    def stop(self) -> None:
        for server in (self.open, self.auth):
            if server is not None:
                server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needed = {name for item in items for name in getattr(item, "fixturenames", ())}
    config.stash[_NEEDED] = needed


_NEEDED = pytest.StashKey[set[str]]()


@pytest.fixture(scope="session")
def _prefect_servers(request: pytest.FixtureRequest) -> Iterator[_Servers]:
    servers = _Servers(request.config.stash.get(_NEEDED, set()))
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def prefect_server(_prefect_servers: _Servers) -> PrefectServer:
    """A real Prefect server, open (no auth), shared by the session."""
    return _prefect_servers.without_auth()


@pytest.fixture(scope="session")
def prefect_auth_server(_prefect_servers: _Servers) -> PrefectServer:
    """A real Prefect server that demands the auth string AUTH_STRING."""
    return _prefect_servers.with_auth()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A Prefect-safe name prefix unique to the test, on a server shared by the session."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())
    return "t-" + base.strip("-")[-40:].strip("-")
