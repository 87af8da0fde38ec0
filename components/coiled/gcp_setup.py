"""Coiled's GCP setup as code: what `coiled setup gcp` creates, declared (data: gcp_roles.py).

No key is made here: a key would be a long-lived secret in the stack's state and outputs.
Coiled's setup page takes a key of the control plane's service account; the user makes one
(or uses their organisation's way of issuing keys) and uploads it there (docs/coiled.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import projects, serviceaccount

from pushpools.components.coiled import gcp_roles
from pushpools.components.coiled.setup_settings import CoiledGcpSetup


@dataclass(frozen=True)
class CoiledGcpAccess:
    """What the user gives Coiled: a key of the first account, and the second's email."""

    service_account_email: pulumi.Output[str]
    data_service_account_email: pulumi.Output[str]


def coiled_gcp_setup(
    pool_name: str, setup: CoiledGcpSetup, parent: pulumi.Resource
) -> tuple[CoiledGcpAccess, list[pulumi.Resource]]:
    """The two service accounts, their custom roles bound on the project, and the APIs; with
    the bindings (the grants the pool's Prefect objects wait for)."""
    child = pulumi.ResourceOptions(parent=parent)
    project = setup.project
    names = setup.names  # filled in by the config layer
    apis: list[pulumi.Resource] = []
    if setup.enable_apis:
        apis = [
            projects.Service(
                f"{pool_name}-coiled-{service.split('.')[0]}-api",
                project=project,
                service=service,
                # Other workloads of the project may rely on these APIs.
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=child,
            )
            for service in gcp_roles.APIS
        ]
    after_apis = pulumi.ResourceOptions(parent=parent, depends_on=apis)
    control = serviceaccount.Account(
        f"{pool_name}-coiled-sa",
        project=project,
        account_id=str(names.service_account),
        display_name="Coiled control plane",
        description=f"Coiled creates the clusters of the Prefect pool {pool_name} as this account",
        opts=after_apis,
    )
    data = serviceaccount.Account(
        f"{pool_name}-coiled-data-sa",
        project=project,
        account_id=str(names.data_service_account),
        display_name="Coiled cluster VMs",
        description=f"Carried by the Coiled cluster VMs of the Prefect pool {pool_name}",
        opts=after_apis,
    )
    control_role = projects.IAMCustomRole(
        f"{pool_name}-coiled-role",
        project=project,
        role_id=str(names.role),
        title="coiled",
        description="used by Coiled control-plane for creating infrastructure and clusters",
        permissions=list(gcp_roles.CONTROL_PLANE_PERMISSIONS),
        stage="GA",
        opts=after_apis,
    )
    data_role = projects.IAMCustomRole(
        f"{pool_name}-coiled-data-role",
        project=project,
        role_id=str(names.data_role),
        title="coiled-data",
        description="service account attached to cluster instances for data access",
        permissions=list(gcp_roles.DATA_PERMISSIONS),
        stage="GA",
        opts=after_apis,
    )
    grants: list[pulumi.Resource] = [
        projects.IAMMember(
            f"{pool_name}-coiled-sa-role",
            project=project,
            role=control_role.name,
            member=control.member,
            opts=child,
        ),
        projects.IAMMember(
            f"{pool_name}-coiled-data-sa-role",
            project=project,
            role=data_role.name,
            member=data.member,
            opts=child,
        ),
        # actAs on the data account only, not on every account of the project (gcp_roles.py).
        serviceaccount.IAMMember(
            f"{pool_name}-coiled-sa-acts-as-data-sa",
            service_account_id=data.name,
            role=gcp_roles.ACT_AS_ROLE,
            member=control.member,
            opts=child,
        ),
    ]
    access = CoiledGcpAccess(
        service_account_email=control.email, data_service_account_email=data.email
    )
    return access, grants
