"""Reaching Prefect: retries, failures that leave nothing behind, and both ways to log in.

- a server that answers 503, and a port where nothing listens: retried, then a clear error,
  and nothing created that Pulumi state would not know about;
- a self-hosted server started with an auth string: the right one works, a wrong or
  missing one is a clear error;
- Prefect Cloud's URL shape and Bearer key, played by a loopback proxy in front of a local
  server: the right key works, a wrong one is a clear error.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import SyncPrefectClient
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from pushpools.components.prefect.blocks import BlockProvider
from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.work_pools import WorkPoolProvider
from tests.conftest import AUTH_STRING
from tests.prefect_server import LoopbackProxy, PrefectServer, free_port

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CLOUD_KEY = "pnu_0123456789abcdefghijklmnopqrstuvwxyz"


def block_props(api_url: str, name: str, **connection: Any) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "type_slug": "aws-credentials",
        "name": name,
        "data": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": SECRET},
        **connection,
    }


def pool_props(api_url: str, name: str, block_id: str, **connection: Any) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "name": name,
        "type": "ecs",
        "template_defaults": {"cluster": "prefect-ecs-cluster"},
        "credentials_variable": "aws_credentials",
        "block_document_id": block_id,
        **connection,
    }


@pytest.fixture
def few_retries() -> Iterator[None]:
    """Prefect's client backs off 2 s, 4 s, 8 s, ... (also after its last try): one retry
    keeps the test short and still shows the retrying."""
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 1}):
        yield


def test_a_server_answering_503_is_retried_then_a_clear_error_and_nothing_is_created(
    prefect_server: PrefectServer, unique_name: str, few_retries: None
) -> None:
    def unavailable(method: str, path: str) -> int | None:
        return 503 if method == "POST" and path == "/api/block_documents/" else None

    with LoopbackProxy(prefect_server.api_url, fault=unavailable) as proxy:
        with pytest.raises(PrefectError) as caught:
            BlockProvider().create(block_props(proxy.api_url, unique_name))
        attempts = [s for s in proxy.seen if s.method == "POST" and s.status == 503]

    assert len(attempts) == 2  # the first try and one retry
    message = str(caught.value)
    assert "503 Service Unavailable to POST /api/block_documents/ (after 1 retry)" in message
    assert SECRET not in message
    # create raised, so Pulumi records nothing; and Prefect has nothing either.
    with SyncPrefectClient(prefect_server.api_url) as client, pytest.raises(ObjectNotFound):
        client.read_block_document_by_name(unique_name, "aws-credentials")


def test_a_refused_connection_is_retried_then_a_clear_error(unique_name: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api"

    started = time.monotonic()
    with pytest.raises(PrefectError) as caught:
        BlockProvider().create(block_props(nowhere, unique_name))
    waited = time.monotonic() - started

    message = str(caught.value)
    assert f"could not connect to Prefect at {nowhere} after 3 attempts" in message
    assert "pushpools:prefect.api_url or PREFECT_API_URL" in message
    assert waited >= 3  # backed off 1 s, then 2 s
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_a_server_with_an_auth_string_accepts_the_right_one(
    prefect_auth_server: PrefectServer, unique_name: str
) -> None:
    url = prefect_auth_server.api_url
    block = BlockProvider().create(block_props(url, unique_name, auth_string=AUTH_STRING))
    block_id = (block.outs or {})["block_document_id"]
    pool = WorkPoolProvider().create(
        pool_props(url, unique_name, block_id, auth_string=AUTH_STRING)
    )
    state = {**pool_props(url, unique_name, block_id, auth_string=AUTH_STRING), **(pool.outs or {})}

    assert WorkPoolProvider().diff(unique_name, state, state).changes is False
    WorkPoolProvider().delete(unique_name, state)
    BlockProvider().delete(block.id, {**block_props(url, unique_name), **(block.outs or {})})
    assert (block.outs or {})["auth_string"] == AUTH_STRING  # kept for refresh and destroy


@pytest.mark.parametrize(
    "auth_string", [None, "pushpools-test:wrong-password"], ids=["none", "wrong"]
)
def test_a_server_with_an_auth_string_refuses_a_wrong_or_missing_one(
    prefect_auth_server: PrefectServer, unique_name: str, auth_string: str | None
) -> None:
    with pytest.raises(PrefectError) as caught:
        BlockProvider().create(
            block_props(prefect_auth_server.api_url, unique_name, auth_string=auth_string)
        )

    message = str(caught.value)
    assert caught.value.status_code == 401
    assert "401 Unauthorized" in message
    assert "pushpools:prefectAuthString or PREFECT_API_AUTH_STRING" in message
    assert "wrong-password" not in message
    assert SECRET not in message


@pytest.fixture
def cloud(prefect_server: PrefectServer) -> Iterator[tuple[LoopbackProxy, str]]:
    """Prefect Cloud's URL shape and Bearer key, in front of the local server."""
    with LoopbackProxy(prefect_server.api_url, cloud_key=CLOUD_KEY) as proxy:
        yield proxy, proxy.cloud_api_url(str(uuid.uuid4()), str(uuid.uuid4()))


def test_a_cloud_style_url_with_the_right_bearer_key_works(
    cloud: tuple[LoopbackProxy, str], prefect_server: PrefectServer, unique_name: str
) -> None:
    proxy, url = cloud
    block = BlockProvider().create(block_props(url, unique_name, api_key=CLOUD_KEY))
    block_id = (block.outs or {})["block_document_id"]
    pool = WorkPoolProvider().create(pool_props(url, unique_name, block_id, api_key=CLOUD_KEY))

    # Every request came in under the workspace prefix, with the key (the client's CSRF
    # probe gets 422 from a server without CSRF protection, and goes on without).
    answered = [s for s in proxy.seen if s.path != "/api/csrf-token"]
    assert answered
    assert all(s.status < 400 for s in answered)
    assert {"/api/block_documents/", "/api/work_pools/"} <= {s.path for s in proxy.writes()}
    with SyncPrefectClient(prefect_server.api_url) as client:
        stored = client.read_work_pool(unique_name)
    assert str(stored.id) == (pool.outs or {})["pool_id"]
    assert stored.base_job_template["variables"]["properties"]["aws_credentials"]["default"] == {
        "$ref": {"block_document_id": block_id}
    }


def test_a_cloud_style_url_with_a_wrong_key_is_a_clear_error(
    cloud: tuple[LoopbackProxy, str], unique_name: str
) -> None:
    _, url = cloud
    with pytest.raises(PrefectError) as caught:
        BlockProvider().create(block_props(url, unique_name, api_key="pnu_revoked-key-0000"))

    message = str(caught.value)
    assert caught.value.status_code == 401
    assert "pushpools:prefectApiKey or PREFECT_API_KEY" in message
    assert "pnu_revoked-key-0000" not in message
