"""Google Cloud Run: what a `cloud-run:push` (or `cloud-run-v2:push`, or worker) pool needs.

Everything Prefect's `--provision-infra` helper creates, declaratively, and what it misses:
the iam API, a runtime service account for the jobs (instead of the default compute
account), `iam.serviceAccountUser` on that account only, the pool's region in the template,
labels, and a key that rotates.
"""

import base64
import json
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_gcp import artifactregistry, projects, serviceaccount

from pushpools.components.api_key_secret_args import StoredSecretArgs
from pushpools.components.config import Cloud, PoolType
from pushpools.components.gcp.api_key_secret import (
    secret_manager_services,
    store_prefect_credentials,
)
from pushpools.components.gcp.network import declare_network, services_needed
from pushpools.components.gcp.network_settings import ConnectorMachineType
from pushpools.components.gcp.settings import CloudRunSettings, ServiceAccountUserScope
from pushpools.components.naming import Naming
from pushpools.components.pause import Pause
from pushpools.components.pool_component import PoolComponent
from pushpools.components.tagging import resource_labels, slug

# The helper forgets iam.googleapis.com, which creating service accounts needs.
REQUIRED_SERVICES = ("run.googleapis.com", "artifactregistry.googleapis.com", "iam.googleapis.com")
# A newly enabled API can answer 403 SERVICE_DISABLED while the enablement propagates
# (Google: "wait a few minutes for the action to propagate"); the Google provider's guide
# to `google_project_service` ("Using the time provider") sleeps 60 s after enabling.
API_PROPAGATION_SECONDS = 60
PREFECT_ROLE = "roles/run.developer"
ACT_AS_ROLE = "roles/iam.serviceAccountUser"


class CloudRunNamesArgs(TypedDict):
    """Physical names (`names` of the `gcp` section)."""

    service_account: NotRequired[str]
    runtime_service_account: NotRequired[str]
    repository: NotRequired[str]


class CloudRunConnectorArgs(TypedDict):
    """A connector to create (`network.connector`)."""

    name: NotRequired[str]
    network: NotRequired[str]
    ip_cidr_range: NotRequired[str]
    subnet: NotRequired[str]
    host_project: NotRequired[str]
    min_instances: NotRequired[int]
    max_instances: NotRequired[int]
    machine_type: NotRequired[ConnectorMachineType]


class CloudRunNetworkArgs(TypedDict):
    """How the jobs reach a VPC (`network` of the `gcp` section)."""

    connector: NotRequired[CloudRunConnectorArgs]
    existing_connector: NotRequired[str]


class CloudRunPushPoolArgs(TypedDict):
    """The `gcp` section of a Cloud Run pool in the stack config, with the same keys (each
    described by `CloudRunSettings`), and the pool-level `type`, `naming`,
    `credentials_block_name` and `labels`."""

    project: pulumi.Input[str]
    region: NotRequired[str]
    names: NotRequired[CloudRunNamesArgs]
    service_account_user_scope: NotRequired[ServiceAccountUserScope]
    runtime_roles: NotRequired[list[str]]
    act_as_service_accounts: NotRequired[list[str]]
    delete_images_on_destroy: NotRequired[bool]
    delete_untagged_images_after_days: NotRequired[int]
    enable_services: NotRequired[bool]
    key_generation: NotRequired[int]
    network: NotRequired[CloudRunNetworkArgs]
    # The Prefect API key in the cloud's secret store (api_key_secret.py): where to store
    # it, and the credential itself (secret; the stack program reads it from `config_key`).
    prefect_api_key_secret: NotRequired[StoredSecretArgs]
    prefect_api_auth_string_secret: NotRequired[StoredSecretArgs]
    prefect_api_key: NotRequired[pulumi.Input[str]]
    """The Prefect API key to store (secret); required with `prefect_api_key_secret`."""
    prefect_api_auth_string: NotRequired[pulumi.Input[str]]
    """The auth string to store (secret); required with `prefect_api_auth_string_secret`."""
    type: NotRequired[PoolType]
    naming: NotRequired[Naming]
    credentials_block_name: NotRequired[str]
    labels: NotRequired[dict[str, str]]


class CloudRunPushPool(PoolComponent):
    """The GCP side of one Cloud Run work pool: the account Prefect acts as (its key in the
    credentials block), the account the jobs run as, the grants, and an image repository."""

    prefect_service_account_email: pulumi.Output[str]
    """Email of the service account Prefect acts as."""
    runtime_service_account_email: pulumi.Output[str]
    """Email of the service account the Cloud Run jobs run as."""

    RESOURCE_TYPE = "pushpools:gcp:CloudRunPushPool"
    CLOUD = Cloud.GCP

    def __init__(
        self,
        name: str,
        args: CloudRunPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        name = self.pool_name
        gcp = self._cloud_settings(CloudRunSettings)
        # The project may be another resource's output.
        project = self._value("project")
        labels = resource_labels(self._labels, name)
        child = pulumi.ResourceOptions(parent=self)

        extra_services = services_needed(gcp.network) + secret_manager_services(gcp)
        services = (
            _enable_services(name, project, extra_services, child) if gcp.enable_services else []
        )
        after_services = pulumi.ResourceOptions(
            parent=self, depends_on=_after_propagation(name, services, self)
        )

        self.repository = artifactregistry.Repository(
            f"{name}-images",
            project=project,
            location=gcp.region,
            repository_id=gcp.names.repository,
            format="DOCKER",
            description=f"Flow images for the Prefect work pool {name}",
            labels=labels,
            cleanup_policies=_cleanup_policies(gcp),
            # Deleting a repository deletes its images: only when the stack says so.
            opts=pulumi.ResourceOptions.merge(
                after_services,
                pulumi.ResourceOptions(protect=not gcp.delete_images_on_destroy),
            ),
        )

        self.prefect_service_account = serviceaccount.Account(
            f"{name}-prefect-sa",
            project=project,
            account_id=gcp.names.service_account,
            display_name="Prefect Cloud Run Service Account",
            description=f"Prefect acts as this account to run jobs of the work pool {name}",
            opts=after_services,
        )
        self.runtime_service_account = serviceaccount.Account(
            f"{name}-runtime-sa",
            project=project,
            account_id=gcp.names.runtime_service_account,
            display_name="Prefect Cloud Run Job Runtime",
            description=f"Flow runs of the Prefect work pool {name} run as this account",
            opts=after_services,
        )
        prefect_member = self.prefect_service_account.member

        self._granted(
            projects.IAMMember(
                f"{name}-{slug(PREFECT_ROLE)}",
                project=project,
                role=PREFECT_ROLE,
                member=prefect_member,
                opts=child,
            )
        )
        if gcp.service_account_user_scope is ServiceAccountUserScope.RUNTIME_ACCOUNT:

            def act_as(suffix: str, account: pulumi.Input[str]) -> None:
                self._granted(
                    serviceaccount.IAMMember(
                        f"{name}-act-as-{suffix}",
                        service_account_id=account,
                        role=ACT_AS_ROLE,
                        member=prefect_member,
                        opts=child,
                    )
                )

            act_as("runtime", self.runtime_service_account.name)
            # Deployments that override `service_account_name` run as another account:
            # Cloud Run checks act-as on that account, so each one listed gets it too.
            for email in gcp.act_as_service_accounts:
                act_as(
                    slug(email),
                    pulumi.Output.from_input(project).apply(
                        lambda p, e=email: f"projects/{p}/serviceAccounts/{e}"
                    ),
                )
        else:
            self._granted(
                projects.IAMMember(
                    f"{name}-{slug(ACT_AS_ROLE)}",
                    project=project,
                    role=ACT_AS_ROLE,
                    member=prefect_member,
                    opts=child,
                )
            )
        for role in gcp.runtime_roles:
            self._granted(
                projects.IAMMember(
                    f"{name}-runtime-{slug(role)}",
                    project=project,
                    role=role,
                    member=self.runtime_service_account.member,
                    opts=child,
                )
            )

        connector = (
            None
            if gcp.network is None
            else declare_network(
                name, gcp.network, project, gcp.project, gcp.region, after_services, self._granted
            )
        )
        # The Prefect API key in Secret Manager, read only by the runtime account.
        secret_defaults, secrets_ready = store_prefect_credentials(
            name,
            gcp,
            project=project,
            secret_value=self._secret,
            runtime_member=self.runtime_service_account.member,
            labels=labels,
            parent=self,
            after_services=after_services,
        )
        self.grants += secrets_ready

        # A new keeper value replaces the key; Pulumi creates the new key (and updates
        # whatever reads it) before it deletes the old one.
        key = serviceaccount.Key(
            f"{name}-key",
            service_account_id=self.prefect_service_account.name,
            keepers={"generation": str(gcp.key_generation)},
            opts=child,
        )

        self.prefect_service_account_email = self.prefect_service_account.email
        self.runtime_service_account_email = self.runtime_service_account.email
        self._finish(
            credentials_data=pulumi.Output.all(key.private_key, project).apply(
                lambda values: _block_data(values[0], values[1])
            ),
            template_defaults=_template_defaults(
                gcp.region, self.runtime_service_account.email, connector, secret_defaults
            ),
            image_namespace=pulumi.Output.all(project, self.repository.repository_id).apply(
                lambda values: f"{gcp.region}-docker.pkg.dev/{values[0]}/{values[1]}"
            ),
            outputs={
                "prefectServiceAccountEmail": self.prefect_service_account_email,
                "runtimeServiceAccountEmail": self.runtime_service_account_email,
            },
        )


def _template_defaults(
    region: str,
    runtime_email: pulumi.Output[str],
    connector: pulumi.Output[str] | None,
    secret_defaults: pulumi.Input[dict[str, Any]],
) -> pulumi.Output[dict[str, Any]]:
    """The pool's region, its runtime account, with a network its connector, and the
    references to the Prefect credentials it stores in Secret Manager."""
    return pulumi.Output.all(
        runtime_email, connector, pulumi.Output.from_input(secret_defaults)
    ).apply(
        lambda values: {
            "region": region,
            "service_account_name": values[0],
            **({} if connector is None else {"vpc_connector_name": values[1]}),
            **values[2],
        }
    )


def _enable_services(
    name: str,
    project: pulumi.Input[str],
    extra: tuple[str, ...],
    opts: pulumi.ResourceOptions,
) -> list[projects.Service]:
    return [
        projects.Service(
            f"{name}-{service.split('.')[0]}-api",
            project=project,
            service=service,
            # Other workloads of the project may rely on these APIs.
            disable_on_destroy=False,
            disable_dependent_services=False,
            opts=opts,
        )
        for service in (*REQUIRED_SERVICES, *extra)
    ]


def _after_propagation(
    name: str, services: list[projects.Service], parent: pulumi.Resource
) -> list[pulumi.Resource]:
    """What waits for the APIs: a pause that starts once every service is enabled. It
    sleeps only when it is created, or when the set of services changes (see Pause), so
    reruns and unchanged stacks never wait."""
    if not services:
        return []
    enabled = pulumi.Output.all(*(service.id for service in services)).apply(
        lambda ids: ",".join(sorted(str(i) for i in ids))
    )
    return [
        Pause(
            f"{name}-api-propagation",
            after=enabled,
            seconds=API_PROPAGATION_SECONDS,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=services),
        )
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


def _block_data(encoded_key_file: str | None, project: str) -> dict[str, Any]:
    """The `gcp-credentials` block data: the key file as an object, as Prefect stores it.

    Google always returns the key file. Pulumi's standard unit-test mocks return a
    resource's inputs as its state, without it: the block then holds no key, rather than
    the program failing in users' own tests."""
    key_file = json.loads(base64.b64decode(encoded_key_file)) if encoded_key_file else None
    return {"service_account_info": key_file, "project": project}
