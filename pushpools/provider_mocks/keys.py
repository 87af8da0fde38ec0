"""Throwaway key material, so that payloads parse as real credentials do."""

from __future__ import annotations

from functools import cache


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
