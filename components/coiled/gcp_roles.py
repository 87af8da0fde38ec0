"""The custom roles and APIs of Coiled's GCP setup, as pure data (no Pulumi).

Source: the `coiled` package 1.135.0 (PyPI), `coiled/cli/setup/gcp.py`, which is what
`coiled setup gcp` runs (`CONTROL_PLANE_ROLE`, `DATA_ROLE`, the services it enables), and
Coiled's "GCP Reference" page (https://docs.coiled.io/user_guide/setup/gcp/reference.html).
`coiled setup gcp` creates, in the gcloud project:
- the custom role `coiled` (title "coiled") for the service account `coiled`, which Coiled's
  control plane uses (its key goes to Coiled), bound on the project;
- the custom role `coiled_data` for the service account `coiled-data`, which the cluster VMs
  carry, bound on the project;
- enables compute, bigquery, logging and monitoring (plus artifactregistry with
  `--enable-gar`, and orgpolicy for a temporary org-policy change pushpools does not make).

One narrowing: Coiled's control-plane role holds `iam.serviceAccounts.actAs` on the whole
project, which lets it start VMs as *any* service account there. It only ever attaches the
data service account (Coiled's `instance_service_account`), so here that permission is left
out of the project-wide role and granted on the data account alone
(`roles/iam.serviceAccountUser`, whose only non-list permissions are actAs and its kin).
"""

from __future__ import annotations

ACT_AS = "iam.serviceAccounts.actAs"

# `CONTROL_PLANE_ROLE` of coiled 1.135.0, in its order, less ACT_AS (see above).
CONTROL_PLANE_PERMISSIONS = (
    "bigquery.datasets.create",
    "bigquery.jobs.create",
    "bigquery.datasets.get",
    "bigquery.datasets.update",
    "bigquery.tables.getData",
    "compute.acceleratorTypes.list",
    "compute.addresses.list",
    "compute.disks.create",
    "compute.disks.delete",
    "compute.disks.list",
    "compute.disks.useReadOnly",
    "compute.firewalls.create",
    "compute.firewalls.delete",
    "compute.firewalls.get",
    "compute.firewalls.list",
    "compute.globalOperations.get",
    "compute.globalOperations.getIamPolicy",
    "compute.globalOperations.list",
    "compute.images.create",
    "compute.images.delete",
    "compute.images.get",
    "compute.images.list",
    "compute.images.setLabels",
    "compute.images.useReadOnly",
    "compute.instances.create",
    "compute.instances.delete",
    "compute.instances.get",
    "compute.instances.getSerialPortOutput",
    "compute.instances.list",
    "compute.instances.setLabels",
    "compute.instances.setMetadata",
    "compute.instances.setServiceAccount",
    "compute.instances.setTags",
    "compute.instanceTemplates.create",
    "compute.instanceTemplates.delete",
    "compute.instanceTemplates.get",
    "compute.instanceTemplates.useReadOnly",
    "compute.machineTypes.get",
    "compute.machineTypes.list",
    "compute.networks.create",
    "compute.networks.delete",
    "compute.networks.get",
    "compute.networks.list",
    "compute.networks.updatePolicy",
    "compute.projects.get",
    "compute.projects.setCommonInstanceMetadata",
    "compute.regionOperations.get",
    "compute.regionOperations.list",
    "compute.regions.get",
    "compute.regions.list",
    "compute.routers.create",
    "compute.routers.delete",
    "compute.routers.get",
    "compute.routers.list",
    "compute.routers.update",
    "compute.routes.delete",
    "compute.routes.list",
    "compute.subnetworks.create",
    "compute.subnetworks.delete",
    "compute.subnetworks.get",
    "compute.subnetworks.getIamPolicy",
    "compute.subnetworks.list",
    "compute.subnetworks.use",
    "compute.subnetworks.useExternalIp",
    "compute.zoneOperations.get",
    "compute.zoneOperations.list",
    "compute.zones.list",
    "logging.buckets.create",
    "logging.buckets.get",
    "logging.buckets.list",
    "logging.logEntries.create",
    "logging.logEntries.list",
    "logging.sinks.create",
    "logging.sinks.get",
    "logging.sinks.list",
    "storage.buckets.create",
    "storage.buckets.get",
    "storage.objects.create",
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.update",
)

# `DATA_ROLE` of coiled 1.135.0: what the cluster VMs may do (write logs, Coiled's buckets).
DATA_PERMISSIONS = (
    "logging.logEntries.create",
    "storage.buckets.get",
    "storage.buckets.create",
    "storage.objects.create",
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.update",
)

# The services `coiled setup gcp` enables (without `--enable-gar`).
APIS = (
    "compute.googleapis.com",
    "bigquery.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
)

# Where the control plane may act as the data account (see the module's docstring).
ACT_AS_ROLE = "roles/iam.serviceAccountUser"
