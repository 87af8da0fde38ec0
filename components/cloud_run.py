"""Google Cloud Run: what a `cloud-run:push` (or `cloud-run-v2:push`, or worker) pool needs.

Everything Prefect's `--provision-infra` helper creates, declaratively, and what it misses:
the iam API, a runtime service account for the jobs (instead of the default compute
account), `iam.serviceAccountUser` on that account only, the pool's region in the template,
labels, and a key that rotates.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
from pulumi_gcp import artifactregistry, projects, serviceaccount

from pushpools.components.config import PoolConfig
from pushpools.components.config.gcp import CloudRunSettings
from pushpools.components.pool_component import PoolComponent
from pushpools.components.tagging import resource_labels, slug

# The helper forgets iam.googleapis.com, which creating service accounts needs.
REQUIRED_SERVICES = ("run.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com")
PREFECT_ROLE = "roles/run.developer"
ACT_AS_ROLE = "roles/iam.serviceAccountUser"


class CloudRunPushPool(PoolComponent):
    """The GCP side of one Cloud Run work pool."""

    prefect_service_account: serviceaccount.Account
    """The account Prefect acts as; its key is in the credentials block."""
    runtime_service_account: serviceaccount.Account
    """The account the Cloud Run jobs run as."""
    repository: artifactregistry.Repository

    def __init__(
        self,
        pool: PoolConfig,
        stack_labels: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("pushpools:gcp:CloudRunPushPool", pool, opts)
        gcp = self._cloud_settings(CloudRunSettings)
        name = pool.name
        labels = resource_labels(stack_labels, name)
        child = pulumi.ResourceOptions(parent=self)

        services = _enable_services(name, gcp, child) if gcp.enable_services else []
        after_services = pulumi.ResourceOptions(parent=self, depends_on=services)

        self.repository = artifactregistry.Repository(
            f"{name}-images",
            project=gcp.project,
            location=gcp.region,
            repository_id=gcp.names.repository,
            format="DOCKER",
            description=f"Flow images for the Prefect work pool {name}",
            labels=labels,
            cleanup_policies=_cleanup_policies(gcp),
            opts=after_services,
        )

        self.prefect_service_account = serviceaccount.Account(
            f"{name}-prefect-sa",
            project=gcp.project,
            account_id=gcp.names.service_account,
            display_name="Prefect Cloud Run Service Account",
            description=f"Prefect acts as this account to run jobs of the work pool {name}",
            opts=after_services,
        )
        self.runtime_service_account = serviceaccount.Account(
            f"{name}-runtime-sa",
            project=gcp.project,
            account_id=gcp.names.runtime_service_account,
            display_name="Prefect Cloud Run Job Runtime",
            description=f"Flow runs of the Prefect work pool {name} run as this account",
            opts=after_services,
        )
        prefect_member = self.prefect_service_account.member

        projects.IAMMember(
            f"{name}-{slug(PREFECT_ROLE)}",
            project=gcp.project,
            role=PREFECT_ROLE,
            member=prefect_member,
            opts=child,
        )
        if gcp.service_account_user_scope == "runtime-account":
            serviceaccount.IAMMember(
                f"{name}-act-as-runtime",
                service_account_id=self.runtime_service_account.name,
                role=ACT_AS_ROLE,
                member=prefect_member,
                opts=child,
            )
        else:
            projects.IAMMember(
                f"{name}-{slug(ACT_AS_ROLE)}",
                project=gcp.project,
                role=ACT_AS_ROLE,
                member=prefect_member,
                opts=child,
            )
        for role in gcp.runtime_roles:
            projects.IAMMember(
                f"{name}-runtime-{slug(role)}",
                project=gcp.project,
                role=role,
                member=self.runtime_service_account.member,
                opts=child,
            )

        # A new keeper value replaces the key; Pulumi creates the new key (and updates
        # whatever reads it) before it deletes the old one.
        key = serviceaccount.Key(
            f"{name}-key",
            service_account_id=self.prefect_service_account.name,
            keepers={"generation": str(gcp.key_generation)},
            opts=child,
        )

        self._finish(
            credentials_data=key.private_key.apply(
                lambda encoded: _block_data(encoded, gcp.project)
            ),
            template_defaults=self.runtime_service_account.email.apply(
                lambda email: {"region": gcp.region, "service_account_name": email}
            ),
            image_namespace=self.repository.repository_id.apply(
                lambda repo: f"{gcp.region}-docker.pkg.dev/{gcp.project}/{repo}"
            ),
        )


def _enable_services(
    name: str, gcp: CloudRunSettings, opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    return [
        projects.Service(
            f"{name}-{service.split('.')[0]}-api",
            project=gcp.project,
            service=service,
            # Other workloads of the project may rely on these APIs.
            disable_on_destroy=False,
            disable_dependent_services=False,
            opts=opts,
        )
        for service in REQUIRED_SERVICES
    ]


def _cleanup_policies(
    gcp: CloudRunSettings,
) -> list[artifactregistry.RepositoryCleanupPolicyArgsDict] | None:
    if gcp.delete_untagged_images_after_days is None:
        return None
    return [
        {
            "id": "delete-untagged",
            "action": "DELETE",
            "condition": {
                "tag_state": "UNTAGGED",
                "older_than": f"{gcp.delete_untagged_images_after_days * 86400}s",
            },
        }
    ]


def _block_data(encoded_key_file: str, project: str) -> dict[str, Any]:
    """The `gcp-credentials` block data: the key file as an object, as Prefect stores it."""
    return {
        "service_account_info": json.loads(base64.b64decode(encoded_key_file)),
        "project": project,
    }
