"""The trust policy of an AWS role assumed with an OIDC token (AssumeRoleWithWebIdentity).

Shared by every role pushpools lets an outside identity provider's tokens assume: GitHub
Actions' (pushpools_tools/ci_identities.py) and Prefect Cloud's (managed/federation.py).
"""

from __future__ import annotations

from typing import Any


def web_identity_trust_policy(
    provider_arn: str, issuer: str, audience: str, subject: str | list[str]
) -> dict[str, Any]:
    """Only tokens of `issuer`, meant for `audience`, with one of these subjects: IAM reads
    the claims under condition keys named after the issuer's URL without its scheme."""
    host_path = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host_path}:aud": audience,
                        f"{host_path}:sub": subject,
                    }
                },
            }
        ],
    }
