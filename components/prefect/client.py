"""Talking to Prefect through Prefect's own client, with errors a user can act on.

Prefect's client already speaks to Prefect Cloud (Bearer key) and self-hosted servers
(Basic auth string), and retries 408/429/502/503 and dropped connections with backoff. It
deliberately fails fast when the very first connection is refused; we retry that a few
times too, since a server that is still starting is the usual cause in pipelines.

Every message raised from here is redacted: no API key, auth string or block data in it,
even when the server echoes a request back.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pushpools.components.prefect.connection import Connection, display_url

if TYPE_CHECKING:
    import httpx
    from prefect.client.orchestration import SyncPrefectClient

T = TypeVar("T")

CONNECT_ATTEMPTS = 3
CONNECT_BACKOFF_SECONDS = 1.0
REDACTED = "[secret]"

_STATUS_HINTS = {
    401: "; check the API key (pushpools:prefectApiKey or PREFECT_API_KEY) or the auth "
    "string (pushpools:prefectAuthString or PREFECT_API_AUTH_STRING)",
    403: "; the credentials are valid but not allowed to do this",
}


class PrefectError(Exception):
    """Prefect could not be reached or refused a request; the message is safe to show."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def call_prefect(
    connection: Connection,
    operation: Callable[[SyncPrefectClient], T],
    *,
    secrets: Iterable[str] = (),
) -> T:
    """Run `operation` with a client for `connection`; translate failures to PrefectError.

    `secrets` are values (besides the connection's) that must never appear in a message.
    """
    import httpx
    from prefect.client.orchestration import SyncPrefectClient

    hidden = [*connection.secrets(), *secrets]
    for attempt in range(1, CONNECT_ATTEMPTS + 1):
        answered: list[bool] = []

        def mark_answered(_: httpx.Response, answered: list[bool] = answered) -> None:
            answered.append(True)

        client = SyncPrefectClient(
            connection.api_url,
            api_key=connection.api_key,
            auth_string=connection.auth_string,
            httpx_settings={
                "event_hooks": {"response": [mark_answered]},
                "verify": tls_context(),
            },
        )
        try:
            with client:
                return operation(client)
        except httpx.ConnectError as error:
            # Once the server has answered, Prefect's client has retried this itself.
            if answered or attempt == CONNECT_ATTEMPTS:
                raise PrefectError(
                    redact(
                        f"could not connect to Prefect at {display_url(connection.api_url)} "
                        f"after {attempt} attempts ({_reason(error)}); check the API URL "
                        "(pushpools:prefect.api_url or PREFECT_API_URL) and that the server "
                        "is running",
                        hidden,
                    )
                ) from None
        except httpx.HTTPStatusError as error:
            raise PrefectError(
                redact(describe_status_error(connection, error), hidden),
                error.response.status_code,
            ) from None
        except httpx.TransportError as error:
            raise PrefectError(
                redact(
                    f"Prefect at {display_url(connection.api_url)} did not answer "
                    f"{error.request.method} {error.request.url.path} ({_reason(error)}), "
                    "also after retries",
                    hidden,
                )
            ) from None
        except PrefectError as error:
            raise PrefectError(redact(str(error), hidden), error.status_code) from None
        except Exception as error:
            # ObjectNotFound, ObjectAlreadyExists, ... wrap the HTTP error they stand for.
            http_exc = getattr(error, "http_exc", None)
            if not isinstance(http_exc, httpx.HTTPStatusError):
                raise
            raise PrefectError(
                redact(describe_status_error(connection, http_exc), hidden),
                http_exc.response.status_code,
            ) from None
        time.sleep(CONNECT_BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # the loop returns or raises


def tls_context() -> ssl.SSLContext:
    """The TLS context Prefect's client would build, built once per process.

    Prefect builds one per client (loading the CA bundle, ~30 ms); a stack makes one
    client per resource operation. Same settings as Prefect's: PREFECT_API_SSL_CERT_FILE or
    certifi's bundle, or no verification with PREFECT_API_TLS_INSECURE_SKIP_VERIFY.
    """
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

    return _tls_context(
        bool(PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value()), PREFECT_API_SSL_CERT_FILE.value()
    )


@functools.cache
def _tls_context(insecure: bool, cert_file: str | None) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    import certifi

    return ssl.create_default_context(cafile=cert_file or certifi.where())


def http_status(error: BaseException) -> int | None:
    """The HTTP status behind a Prefect client exception (ObjectNotFound, ...), if any."""
    http_exc = getattr(error, "http_exc", None)
    response = getattr(http_exc, "response", None) or getattr(error, "response", None)
    return getattr(response, "status_code", None)


def describe_status_error(connection: Connection, error: httpx.HTTPStatusError) -> str:
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

    request, response = error.request, error.response
    status = response.status_code
    retries = PREFECT_CLIENT_MAX_RETRIES.value()
    retried = (
        f" (after {retries} {'retry' if retries == 1 else 'retries'})"
        if status in (408, 429, 502, 503)
        else ""
    )
    detail = safe_detail(response)
    return (
        f"Prefect at {display_url(connection.api_url)} answered {status} "
        f"{response.reason_phrase} to {request.method} {request.url.path}{retried}"
        + (f": {detail}" if detail else "")
        + _STATUS_HINTS.get(status, "")
    )


def safe_detail(response: httpx.Response) -> str:
    """The server's explanation, without the request values some errors echo back."""
    try:
        document = response.json()
        # FastAPI says `detail`; Prefect's own validation handler `exception_detail`.
        detail = document.get("detail") or document.get("exception_detail")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, str):
        return detail[:300]
    if isinstance(detail, list):
        # Validation errors carry the offending `input`: keep only where and what.
        parts = [
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
            for item in detail
            if isinstance(item, dict)
        ]
        return "; ".join(parts)[:500]
    return ""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def secret_strings(value: Any) -> list[str]:
    """Every string leaf of a value (block data), to redact from messages."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in secret_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in secret_strings(v)]
    return []


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]
