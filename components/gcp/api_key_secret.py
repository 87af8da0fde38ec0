"""The Prefect API key (or auth string) of a Cloud Run pool's flow runs, in Secret Manager.

prefect-gcp's Cloud Run workers (v1 and v2) turn `prefect_api_key_secret`, a
`{secret, version}` selector, into the container's `PREFECT_API_KEY` taken from the secret
(`valueFrom.secretKeyRef` / `valueSource.secretKeyRef`) instead of a plain `env` value.
Cloud Run reads such secrets when a task starts, as the job's *runtime* service account:
that account, and nothing else, may read the secret (Prefect's own account only writes the
reference into the job).

Replication: user-managed, in the pool's region. The key stays where the jobs that read it
run, and organisations whose `gcp.resourceLocations` policy forbids automatic (global)
replication can create it; a regional outage that takes the secret down takes the jobs
down too.

Rotation: a new value in the stack config replaces only the secret's version; the template
points at `latest`, so tasks started after read the new key and running tasks keep theirs.
"""

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi_gcp import secretmanager

from pushpools.components.config.api_key_secret import stored_credentials
from pushpools.components.config.pool_types import Cloud
from pushpools.components.gcp.settings import CloudRunSettings
from pushpools.components.tagging import slug

STORE_API = "secretmanager.googleapis.com"
ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"


def secret_manager_services(gcp: CloudRunSettings) -> tuple[str, ...]:
    """The API the pool needs besides the others, when it stores a credential."""
    return (STORE_API,) if stored_credentials(gcp, Cloud.GCP) else ()


def store_prefect_credentials(
    pool_name: str,
    gcp: CloudRunSettings,
    *,
    project: pulumi.Input[str],
    secret_value: Callable[[str], pulumi.Output[Any]],
    runtime_member: pulumi.Output[str],
    labels: dict[str, str],
    parent: pulumi.Resource,
    after_services: pulumi.ResourceOptions,
) -> tuple[dict[str, pulumi.Output[dict[str, str]]], list[pulumi.Resource]]:
    """Each stored credential's secret, its value and the runtime account's read grant.
    Returns the template defaults (variable -> selector) and what Prefect must wait for."""
    child = pulumi.ResourceOptions(parent=parent)
    defaults: dict[str, pulumi.Output[dict[str, str]]] = {}
    ready: list[pulumi.Resource] = []
    for stored in stored_credentials(gcp, Cloud.GCP):
        logical = f"{pool_name}-{stored.logical_name_suffix}"
        secret = secretmanager.Secret(
            logical,
            project=project,
            secret_id=stored.name,
            replication={"user_managed": {"replicas": [{"location": gcp.region}]}},
            labels=labels,
            opts=after_services,
        )
        version = secretmanager.SecretVersion(
            f"{logical}-value",
            secret=secret.id,
            secret_data=pulumi.Output.secret(secret_value(stored.credential.value)),
            opts=child,
        )
        grant = secretmanager.SecretIamMember(
            f"{logical}-{slug(ACCESSOR_ROLE)}",
            project=project,
            secret_id=secret.secret_id,
            role=ACCESSOR_ROLE,
            member=runtime_member,
            opts=child,
        )
        # A task started before the value or the grant exists could not start.
        ready += [version, grant]
        # The secret's ID: the jobs run in the secret's project. `latest`: rotation needs
        # no template change.
        defaults[stored.variable] = secret.secret_id.apply(
            lambda secret_id: {"secret": secret_id, "version": "latest"}
        )
    return defaults, ready
