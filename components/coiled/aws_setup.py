"""Coiled's AWS setup as code: what `coiled setup aws` creates (documents: aws_policies.py).

The role trusts Coiled's control plane with the workspace's external ID, so Coiled acts in
the account with short-lived credentials and no key exists anywhere. What no code here can
do is tell Coiled the role's ARN: that is the user's step in Coiled's UI (docs/coiled.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam

from pushpools.components.coiled import aws_policies
from pushpools.components.coiled.setup_settings import CoiledAwsSetup
from pushpools.components.tagging import resource_labels


@dataclass(frozen=True)
class CoiledAwsAccess:
    """What the user gives Coiled (its setup page asks for the role's ARN)."""

    role_arn: pulumi.Output[str]
    instance_profile_arn: pulumi.Output[str]


def coiled_aws_setup(
    pool_name: str,
    setup: CoiledAwsSetup,
    stack_labels: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[CoiledAwsAccess, list[pulumi.Resource]]:
    """The role Coiled assumes, its policies, and the cluster VMs' role and profile; with the
    attachments (the grants the pool's Prefect objects wait for)."""
    child = pulumi.ResourceOptions(parent=parent)
    tags = resource_labels(stack_labels, pool_name)
    names = setup.names  # filled in by the config layer
    role = iam.Role(
        f"{pool_name}-coiled-role",
        name=names.role,
        description=(
            f"Coiled's control plane assumes this role for the Coiled pool {pool_name} "
            "(with the workspace's external ID)"
        ),
        assume_role_policy=json.dumps(
            aws_policies.trust_policy(setup.principal_arn(), setup.external_id)
        ),
        tags=tags,
        opts=child,
    )
    instance_role = iam.Role(
        f"{pool_name}-coiled-instance-role",
        name=names.instance_role,
        description=f"Carried by the Coiled cluster VMs of the pool {pool_name}",
        assume_role_policy=json.dumps(aws_policies.instance_trust_policy()),
        tags=tags,
        opts=child,
    )
    instance_logs = iam.RolePolicy(
        f"{pool_name}-coiled-instance-logs",
        # Coiled's name for it (its `CoiledInstancePolicy`), inline: it belongs to this role only.
        name="CoiledInstancePolicy",
        role=instance_role.name,
        policy=json.dumps(aws_policies.instance_policy()),
        opts=child,
    )
    profile = iam.InstanceProfile(
        f"{pool_name}-coiled-instance-profile",
        name=names.instance_profile,
        role=instance_role.name,
        tags=tags,
        opts=child,
    )
    # Coiled's policies scope its role and profile ARNs to "any account": here, this one.
    account_id = role.arn.apply(lambda arn: arn.split(":")[4])
    ongoing = iam.Policy(
        f"{pool_name}-coiled-ongoing",
        name=names.ongoing_policy,
        description=f"What Coiled does daily for the pool {pool_name} (Coiled's ongoing policy)",
        policy=pulumi.Output.all(account_id, instance_role.arn, profile.arn).apply(
            lambda values: json.dumps(aws_policies.ongoing_policy(*values))
        ),
        tags=tags,
        opts=child,
    )
    setup_policy = iam.Policy(
        f"{pool_name}-coiled-setup",
        name=names.setup_policy,
        description=f"What Coiled does once to set up the pool {pool_name} (Coiled's setup policy)",
        policy=json.dumps(aws_policies.setup_policy()),
        tags=tags,
        opts=child,
    )
    grants: list[pulumi.Resource] = [
        instance_logs,
        iam.RolePolicyAttachment(
            f"{pool_name}-coiled-ongoing-attachment",
            role=role.name,
            policy_arn=ongoing.arn,
            opts=child,
        ),
    ]
    # Declared either way, so that detaching it later keeps the policy for re-attaching.
    if setup.setup_policy_attached:
        grants.append(
            iam.RolePolicyAttachment(
                f"{pool_name}-coiled-setup-attachment",
                role=role.name,
                policy_arn=setup_policy.arn,
                opts=child,
            )
        )
    return CoiledAwsAccess(role_arn=role.arn, instance_profile_arn=profile.arn), grants
