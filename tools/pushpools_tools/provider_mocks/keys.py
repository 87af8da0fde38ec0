"""Key material for mocked credentials.

Tests get a real, freshly generated RSA key, so payloads parse as real credentials do
(Prefect's block classes load them). The offline plan never shows a secret, so it gets a
canary instead: generating a key would cost it more than the rest of the plan, and a test
that finds the canary in the plan's output has found a leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

OFFLINE_PLAN_CANARY = "pushpools-offline-plan-canary-key-material"


@cache
def throwaway_rsa_private_key_pem() -> str:
    """A freshly generated RSA key, never used anywhere; one per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


_material: ContextVar[Callable[[], str]] = ContextVar(
    "key_material", default=throwaway_rsa_private_key_pem
)


def private_key_pem() -> str:
    return _material.get()()


@contextmanager
def canary_key_material() -> Iterator[None]:
    """Within this block, mocked keys hold the canary instead of a real key."""
    token = _material.set(lambda: OFFLINE_PLAN_CANARY)
    try:
        yield
    finally:
        _material.reset(token)
