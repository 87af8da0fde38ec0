"""Mandatory: no credentials payload in a stack output other than the secret ones.

A stack output is printed by `pulumi stack output`, shown in the Pulumi Cloud console and
read by pipelines: a key there leaks. pushpools exports block payloads only in
`credentials_blocks`, which is a Pulumi secret by construction (the main project's tests
prove it). CrossGuard cannot tell this rule whether an output is secret (`pulumi_policy`
gives validations secret values in plain), so the rule judges by content: it reads the
stack's outputs (the `pulumi:pulumi:Stack` resource's properties) and refuses anything
shaped like a credential (a secret key, a client secret, a token secret, a private key, a
service-account key file) in any output not listed as secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pushpools_policy.common import MASKED, is_list

STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_OUTPUTS = ("credentials_blocks",)

# Field names that hold a credential in Prefect's block payloads and the clouds' key
# formats, compared without case, `_` or `-`.
_CREDENTIAL_FIELDS = frozenset(
    {
        "awssecretaccesskey",
        "secretaccesskey",
        "awssessiontoken",
        "clientsecret",
        "tokensecret",
        "privatekey",
        "serviceaccountinfo",
        "apikey",
        "password",
        "authstring",
    }
)


def check(
    resource_type: str,
    props: Mapping[str, Any],
    secret_outputs: tuple[str, ...] | list[str] = SECRET_OUTPUTS,
) -> list[str]:
    if resource_type != STACK_TYPE:
        return []
    problems = []
    for output, value in props.items():
        if output in secret_outputs:
            continue
        for path, what in _credentials(value, output):
            problems.append(
                f"stack output {path} holds {what} in plain text; export credentials only "
                f"inside a secret output (pulumi.Output.secret; pushpools: "
                f"{', '.join(secret_outputs)}), or list the output in this policy's "
                "secretOutputs if it is exported as a secret"
            )
    return problems


def _credentials(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            child = f"{path}.{key}"
            if _normalized(key) in _CREDENTIAL_FIELDS and _present(item):
                found.append((child, f"a credential ({key})"))
            else:
                found += _credentials(item, child)
        return found
    if is_list(value):
        return [hit for i, item in enumerate(value) for hit in _credentials(item, f"{path}[{i}]")]
    if isinstance(value, str):
        if value.lstrip().startswith("{"):  # a key file or payload exported as JSON text
            try:
                return _credentials(json.loads(value), path)
            except json.JSONDecodeError:
                pass
        if "PRIVATE KEY-----" in value:
            return [(path, "a private key")]
    return []


def _normalized(key: Any) -> str:
    return str(key).lower().replace("_", "").replace("-", "")


def _present(value: Any) -> bool:
    if isinstance(value, Mapping) or is_list(value):
        return len(value) > 0
    return value not in (None, "", MASKED)
