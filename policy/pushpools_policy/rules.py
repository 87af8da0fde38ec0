"""The pack's rules: what each forbids, how strictly, and on what it is judged.

`on="inputs"`: each resource's inputs as the program declares them, before anything
changes (CrossGuard's resource validation; the offline plan records the same inputs).
`on="outputs"`: each resource's properties after the update, the whole stack at once
(CrossGuard's stack validation), for what only outputs hold: stack outputs, key dates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pushpools_policy import (
    aws_wildcard_grants,
    azure_roles,
    entra_secret_lifetime,
    key_age,
    ownership_tags,
    plain_credentials,
    project_wide_act_as,
)


@dataclass(frozen=True)
class Setting:
    """A policy config property (`pulumi preview --policy-pack-config`) and the check's
    keyword argument it feeds."""

    keyword: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    enforcement: Literal["mandatory", "advisory"]
    on: Literal["inputs", "outputs"]
    check: Callable[..., list[str]]
    """(resource type, properties, **settings) -> one message per violation."""
    settings: Mapping[str, Setting] = field(default_factory=dict)

    def run(
        self, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]
    ) -> list[str]:
        keywords = {
            s.keyword: _typed(s, config[k]) for k, s in self.settings.items() if k in config
        }
        return self.check(resource_type, props, **keywords)


def _typed(setting: Setting, value: Any) -> Any:
    # Policy config crosses gRPC as a protobuf Struct, where every number is a float.
    if setting.schema.get("type") == "integer" and isinstance(value, float):
        return int(value)
    if setting.schema.get("type") == "array":
        return tuple(value)
    return value


RULES: tuple[Rule, ...] = (
    Rule(
        "no-project-wide-service-account-user",
        "GCP: roles/iam.serviceAccountUser only on one service account, never on a whole "
        "project, folder or organization.",
        "mandatory",
        "inputs",
        project_wide_act_as.check,
    ),
    Rule(
        "no-passrole-or-ecs-on-any-resource",
        'AWS: iam:PassRole and ECS actions only on named resources, never on Resource "*".',
        "mandatory",
        "inputs",
        aws_wildcard_grants.check,
    ),
    Rule(
        "no-azure-role-above-contributor",
        "Azure: no pool identity gets Owner, User Access Administrator, RBAC Administrator or "
        "a custom role that can assign roles.",
        "mandatory",
        "inputs",
        azure_roles.check,
    ),
    Rule(
        "entra-client-secret-expires",
        "Entra ID: every client secret has an end date, at most two years ahead.",
        "mandatory",
        "inputs",
        entra_secret_lifetime.check,
        {
            "maxDays": Setting(
                "max_days",
                {"type": "integer", "minimum": 1, "default": entra_secret_lifetime.MAX_DAYS},
            )
        },
    ),
    Rule(
        "no-credentials-in-plain-outputs",
        "No credentials payload in a stack output that is not a secret.",
        "mandatory",
        "outputs",
        plain_credentials.check,
        {
            "secretOutputs": Setting(
                "secret_outputs",
                {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": list(plain_credentials.SECRET_OUTPUTS),
                },
            )
        },
    ),
    Rule(
        "ownership-tags",
        "Every taggable resource carries managed-by and prefect-work-pool tags or labels.",
        "advisory",
        "inputs",
        ownership_tags.check,
    ),
    Rule(
        "key-max-age",
        "No service-account key, access key or client secret older than maxAgeDays "
        "(judged from the date the provider recorded at creation).",
        "advisory",
        "outputs",
        key_age.check,
        {
            "maxAgeDays": Setting(
                "max_age_days", {"type": "integer", "minimum": 1, "default": key_age.MAX_AGE_DAYS}
            )
        },
    ),
)
