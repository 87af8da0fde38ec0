"""The ECS service-linked role, AWSServiceRoleForECS: a prerequisite of every ECS cluster.

ECS manages a cluster's capacity providers as this role. Most accounts have it (ECS creates
it with the first cluster when the caller may), but on a fresh account it may not exist yet
when the capacity providers are set, which is not retried on it; and a deploy identity
without `iam:CreateServiceLinkedRole` never gets it created. Creating it where it exists
fails (`InvalidInput: Service role name AWSServiceRoleForECS has been taken in this
account`), so it is never created blindly:

- `create_service_linked_role: false` (the default): the program looks the role up, and a
  missing role stops `pulumi preview` with what to do, before anything is created;
- `true`: this stack creates it, its clusters wait for it, and it is retained on destroy:
  AWS refuses to delete it while any cluster of the account exists, in any region, and
  other stacks' clusters rely on it.
"""

from __future__ import annotations

import pulumi
from pulumi_aws import iam

from pushpools.components.aws.account_wide import AccountWide, is_not_found

ECS_SERVICE = "ecs.amazonaws.com"
ROLE_NAME = "AWSServiceRoleForECS"
LOGICAL_NAME = "ecs-service-linked-role"
SETTING = "aws.create_service_linked_role"

_ROLE: AccountWide[list[pulumi.Resource]] = AccountWide(
    f"the ECS service-linked role {ROLE_NAME}", SETTING
)


def ecs_service_linked_role(*, create: bool, pool: str, component: str) -> list[pulumi.Resource]:
    """What the pool's cluster must wait for: the role when this stack creates it."""
    return _ROLE.settle(
        create=create, pool=pool, component=component, make=lambda: _settle(create, pool)
    )


def _settle(create: bool, pool: str) -> list[pulumi.Resource]:
    if create:
        # Untagged: AWS owns its trust and permissions, it outlives the stack, and tags
        # would need iam:TagRole on it too.
        return [
            iam.ServiceLinkedRole(
                LOGICAL_NAME,
                aws_service_name=ECS_SERVICE,
                opts=pulumi.ResourceOptions(retain_on_delete=True),
            )
        ]
    try:
        iam.get_role(name=ROLE_NAME)
    except Exception as error:
        if not is_not_found(error):
            raise pulumi.RunError(
                f"pool {pool!r}: looking up the ECS service-linked role {ROLE_NAME} failed "
                f"({error}); the deploy identity needs iam:GetRole on it, or set {SETTING}: "
                "true to create it in this stack"
            ) from None
        raise pulumi.RunError(
            f"pool {pool!r}: {SETTING} is false, but this AWS account has no ECS "
            f"service-linked role {ROLE_NAME}, which the cluster's capacity providers need "
            f"(a fresh account may not have it yet); set {SETTING}: true in one stack of this "
            "account (its deploy identity needs iam:CreateServiceLinkedRole), or create it "
            f"once: aws iam create-service-linked-role --aws-service-name {ECS_SERVICE}"
        ) from None
    return []
