"""The component args of a stored Prefect credential (config/api_key_secret.py).

No `from __future__ import annotations`: the component provider host reads these at run time.
A component takes the credential itself as a secret arg (`prefect_api_key`), where the
stack config names the secret config key the stack program reads it from.
"""

from typing import NotRequired, TypedDict


class StoredSecretArgs(TypedDict):
    """Store the credential in the cloud's secret store (`prefect_api_key_secret` or
    `prefect_api_auth_string_secret` of the pool's section)."""

    name: NotRequired[str]
    """The secret's name; default derived from the pool's name."""
