"""The Prefect API key (or auth string) of an ECS pool's flow runs, in Secrets Manager.

prefect-aws's ECS worker puts `prefect_api_key_secret_arn` into the task definition's
container `secrets` (`{"name": "PREFECT_API_KEY", "valueFrom": <ARN>}`) instead of its
`environment`. ECS reads such secrets when it starts the task, as the task's *execution*
role: that role, and nothing else, may read the secret. The worker (or Prefect Cloud) only
writes the ARN into the task definition, so Prefect's own user needs no new permission. The
secret is encrypted with the account's `aws/secretsmanager` key, which needs no
`kms:Decrypt` grant.

Rotation: a new value in the stack config replaces only the secret's version (Secrets Manager
moves AWSCURRENT to it); the secret, its ARN and the template stay. Tasks started after
read the new key; running tasks keep the one they started with.
"""

import json
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi_aws import iam, secretsmanager

from pushpools.components.aws.settings import EcsSettings
from pushpools.components.config.api_key_secret import stored_credentials
from pushpools.components.config.pool_types import Cloud


def store_prefect_credentials(
    pool_name: str,
    aws: EcsSettings,
    *,
    secret_value: Callable[[str], pulumi.Output[Any]],
    execution_role: iam.Role,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[dict[str, pulumi.Output[str]], list[pulumi.Resource]]:
    """Each stored credential's secret, its value and the execution role's read grant.
    Returns the template defaults (variable -> secret ARN) and what Prefect must wait for."""
    child = pulumi.ResourceOptions(parent=parent)
    defaults: dict[str, pulumi.Output[str]] = {}
    ready: list[pulumi.Resource] = []
    for stored in stored_credentials(aws, Cloud.AWS):
        logical = f"{pool_name}-{stored.logical_name_suffix}"
        secret = secretsmanager.Secret(
            logical,
            name=stored.name,
            description=(
                f"Prefect credential of the flow runs of the work pool {pool_name} "
                f"(from the stack config key {stored.config_key})"
            ),
            # Deleted at once on destroy: the value's source is the stack config, so a
            # recovery window keeps nothing worth recovering, and it would make the name
            # unusable (and a second `pulumi up` after a destroy fail) for up to 30 days.
            recovery_window_in_days=0,
            region=aws.region,
            tags=tags,
            opts=child,
        )
        version = secretsmanager.SecretVersion(
            f"{logical}-value",
            secret_id=secret.arn,
            secret_string=pulumi.Output.secret(secret_value(stored.credential.value)),
            region=aws.region,
            opts=child,
        )
        grant = iam.RolePolicy(
            f"{logical}-read",
            role=execution_role.name,
            name=f"read-{stored.logical_name_suffix}",
            policy=secret.arn.apply(lambda arn: json.dumps(read_secret_policy(arn))),
            opts=child,
        )
        # A task started before the value or the grant exists could not start.
        ready += [version, grant]
        defaults[stored.variable] = secret.arn
    return defaults, ready


def read_secret_policy(secret_arn: str) -> dict[str, Any]:
    """What ECS needs to put this one secret into a task: read its value, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadPrefectCredential",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret_arn,
            }
        ],
    }
