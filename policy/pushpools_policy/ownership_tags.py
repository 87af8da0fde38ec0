"""Advisory: every taggable resource says who manages it and for which work pool.

`managed-by` and `prefect-work-pool` let an auditor (or a cost report) find every
resource of a pool, and tell pushpools' resources from hand-made ones. pushpools sets
both on everything that takes tags (AWS, Azure) or labels (GCP).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUIRED = ("managed-by", "prefect-work-pool")

# Resource types that take key/value tags or labels, and the property that holds them.
TAGGABLE = {
    # AWS
    "aws:cloudwatch/logGroup:LogGroup": "tags",
    "aws:ec2/internetGateway:InternetGateway": "tags",
    "aws:ec2/routeTable:RouteTable": "tags",
    "aws:ec2/securityGroup:SecurityGroup": "tags",
    "aws:ec2/subnet:Subnet": "tags",
    "aws:ec2/vpc:Vpc": "tags",
    "aws:ecr/repository:Repository": "tags",
    "aws:ecs/cluster:Cluster": "tags",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "tags",
    "aws:iam/policy:Policy": "tags",
    "aws:iam/role:Role": "tags",
    "aws:iam/user:User": "tags",
    # Azure
    "azure-native:containerregistry:Registry": "tags",
    "azure-native:managedidentity:UserAssignedIdentity": "tags",
    "azure-native:resources:ResourceGroup": "tags",
    # GCP
    "gcp:artifactregistry/repository:Repository": "labels",
}


def check(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    field = TAGGABLE.get(resource_type)
    if field is None:
        return []
    tags = props.get(field)
    present = tags if isinstance(tags, Mapping) else {}
    missing = [key for key in REQUIRED if not present.get(key)]
    if not missing:
        return []
    kind = "labels" if field == "labels" else "tags"
    return [
        f"{resource_type} has no {' and no '.join(repr(k) for k in missing)} {kind[:-1]}; "
        f"add {kind} managed-by: pushpools and prefect-work-pool: <pool> (pushpools sets "
        "them on every resource it declares)"
    ]
