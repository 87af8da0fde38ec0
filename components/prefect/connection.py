"""Where Prefect is, and how to tell Prefect Cloud from a self-hosted server.

Pure functions of the URL, shared by config validation (before anything is declared) and
the providers (before anything is sent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Prefect Cloud serves every workspace under api.prefect.cloud (its staging hosts share
# the suffix); a workspace API URL names the account and the workspace.
_CLOUD_HOST_SUFFIX = ".prefect.cloud"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_CLOUD_WORKSPACE_PATH = re.compile(rf"^/api/accounts/{_UUID}/workspaces/{_UUID}$")

# Pool types that only Prefect Cloud runs: it pushes flow runs itself (or runs them on
# its own infrastructure), with no worker.
_CLOUD_ONLY_SUFFIXES = (":push", ":managed")


@dataclass(frozen=True)
class Connection:
    """A Prefect API endpoint and its credentials, as a provider receives them."""

    api_url: str
    api_key: str | None = None
    """Prefect Cloud API key (sent as `Authorization: Bearer`)."""
    auth_string: str | None = None
    """`user:password` of a self-hosted server (sent as HTTP Basic auth); wins over the
    key when both are set, as in Prefect's own client."""

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> Connection:
        return cls(
            api_url=normalize_api_url(str(props["api_url"])),
            api_key=props.get("api_key") or None,
            auth_string=props.get("auth_string") or None,
        )

    @property
    def is_cloud(self) -> bool:
        return is_prefect_cloud_url(self.api_url)

    def secrets(self) -> list[str]:
        return [s for s in (self.api_key, self.auth_string) if s]


def normalize_api_url(url: str) -> str:
    """One spelling per endpoint, so that a trailing slash is no change."""
    return url.strip().rstrip("/")


def is_prefect_cloud_url(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL at all (url_problem says why)
        return False
    return host == _CLOUD_HOST_SUFFIX[1:] or host.endswith(_CLOUD_HOST_SUFFIX)


def is_cloud_only_type(pool_type: str) -> bool:
    return pool_type.endswith(_CLOUD_ONLY_SUFFIXES)


def worker_type_for(pool_type: str) -> str | None:
    """`ecs:push` -> `ecs`: the self-hosted type that uses the same infrastructure."""
    if pool_type.endswith(":push"):
        base = pool_type.removesuffix(":push")
        return base if base in _WORKER_TYPES else None
    return None


# Worker types whose integrations ship with self-hosted Prefect servers.
_WORKER_TYPES = frozenset({"cloud-run", "cloud-run-v2", "ecs", "azure-container-instance"})


def push_needs_cloud_message(pool_type: str, api_url: str) -> str:
    """Why a Cloud-only type cannot be registered at a self-hosted server, and what to do."""
    worker = worker_type_for(pool_type)
    alternative = (
        f"; to run on a self-hosted server use the worker type {worker!r}, which uses the "
        "same cloud infrastructure (a Prefect worker polls the pool instead of Prefect Cloud "
        "pushing to it)"
        if worker
        else "; this type has no self-hosted equivalent"
    )
    return (
        f"pool type {pool_type!r} exists only in Prefect Cloud, but {display_url(api_url)} is "
        f"a self-hosted Prefect server{alternative}"
    )


def url_problem(url: str) -> str | None:
    """What is wrong with an API URL, or None; never echoes credentials inside it."""
    malformed = _malformed(url)
    if malformed:
        return f"{display_url(url)!r} is not a valid URL: {malformed}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"{display_url(url)!r} is not an http(s) URL; allowed: "
            "https://api.prefect.cloud/api/accounts/<account id>/workspaces/<workspace id> "
            "or the URL of a self-hosted server, e.g. http://prefect.internal:4200/api"
        )
    if parts.username or parts.password:
        return (
            "credentials inside the URL are not allowed (they would be stored and shown in "
            "plain text); set them as a secret: pushpools:prefectAuthString or "
            "PREFECT_API_AUTH_STRING"
        )
    if is_prefect_cloud_url(url) and parts.scheme != "https":
        return (
            f"{url!r} would send the Prefect Cloud API key unencrypted; allowed: "
            f"{parts._replace(scheme='https').geturl()!r} (Prefect Cloud serves only https)"
        )
    if not is_prefect_cloud_url(url) and not parts.path.rstrip("/").endswith("/api"):
        # A server's UI and API share the host; the API is under /api, and a URL without
        # it reaches the UI, which answers every API call with an HTML page.
        suggestion = parts._replace(path=parts.path.rstrip("/") + "/api").geturl()
        return (
            f"{url!r} is not a Prefect API URL: a self-hosted server serves its API under "
            f"/api; allowed: a URL ending in /api, such as {suggestion!r}"
        )
    if is_prefect_cloud_url(url) and not _CLOUD_WORKSPACE_PATH.match(parts.path.rstrip("/")):
        return (
            f"{url!r} is a Prefect Cloud URL without a workspace; allowed: "
            "https://api.prefect.cloud/api/accounts/<account id>/workspaces/<workspace id> "
            "(`prefect cloud workspace ls` or the Prefect Cloud UI shows it)"
        )
    return None


def _malformed(url: str) -> str | None:
    """Why `url` cannot be parsed as a URL (Python's parser raises, or silently drops
    characters, where an HTTP client later fails), or None."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url.strip()):
        return "it contains a space or a control character; remove it"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        host_port = _netloc(url).rpartition("@")[2]
        if "out of range" in str(error):
            return "its port is out of range; allowed: 1 to 65535"
        if "IPv6" in str(error):
            return (
                "its IPv6 address is not closed: write it as [address], e.g. http://[::1]:4200/api"
            )
        if host_port.count(":") > 1 and "[" not in host_port:
            return "an IPv6 address must be in brackets, e.g. http://[::1]:4200/api"
        return (
            "its port is not a number; allowed: 1 to 65535, e.g. http://prefect.internal:4200/api"
        )
    if port == 0:
        return "port 0 is not a port a server listens on; allowed: 1 to 65535"
    return None


def _netloc(url: str) -> str:
    """The `user@host:port` part of a URL, without parsing it further."""
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]


def display_url(url: str) -> str:
    """The URL with any user:password replaced, for messages."""
    netloc = _netloc(url)
    if "@" not in netloc:
        return url
    return url.replace(netloc, "***@" + netloc.rpartition("@")[2], 1)
