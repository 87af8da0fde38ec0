"""The IAM documents of Coiled's AWS setup, as pure data (no Pulumi): tested with parliament.

Source: the `coiled` package 1.135.0 (PyPI), `coiled/cli/setup/aws.py`, which is what
`coiled setup aws` runs, and Coiled's "AWS Reference" page
(https://docs.coiled.io/user_guide/setup/aws/reference.html), which shows the same two
policies. `coiled setup aws` creates:
- the role `coiled-role-assumption` (`{iam_user}-role-assumption`, `--iam-user` default
  `coiled`), trusting the principal Coiled's API names (`allowed_principal`) when the
  `sts:ExternalId` is the one Coiled issued for the workspace (`get_role_assumption_trust_policy`);
- the managed policies `coiled-setup` (`setup_doc`) and `coiled-ongoing` (`get_ongoing_doc()`
  with its defaults: the optional ECR statement included, no package-sync bucket), both
  attached to that role.
Coiled's control plane itself then creates the instance role and profile its VMs carry, with
the `CoiledInstancePolicy` (`INSTANCE_POLICY_DOCUMENT`): pushpools declares those too.

The actions are Coiled's, unchanged. Where Coiled's resources are wider than its control
plane can use, they are narrowed here (each place says why); a narrowing never drops a
resource Coiled's own names need.
"""

from __future__ import annotations

from typing import Any

# `setup_doc`: Coiled builds its VPC, subnets, gateway and routes once, and the instance role
# and profile. Its docs say the policy may be detached once setup is done
# (`setup_policy_attached: false`). IAM authorizes Create/Delete of VPC parts only on `*` or
# on IDs that do not exist yet, and Coiled names its own IAM objects after the workspace
# (any name), so Coiled's `Resource: "*"` is kept.
SETUP_ACTIONS = (
    "ec2:AssociateRouteTable",
    "ec2:AttachInternetGateway",
    "ec2:CreateInternetGateway",
    "ec2:CreateRoute",
    "ec2:CreateRouteTable",
    "ec2:CreateSubnet",
    "ec2:CreateVpc",
    "ec2:DeleteInternetGateway",
    "ec2:DeleteRoute",
    "ec2:DeleteRouteTable",
    "ec2:DeleteSubnet",
    "ec2:DeleteVpc",
    "ec2:DetachInternetGateway",
    "ec2:DisassociateRouteTable",
    "ec2:ModifySubnetAttribute",
    "ec2:ModifyVpcAttribute",
    "iam:AddRoleToInstanceProfile",
    "iam:AttachRolePolicy",
    "iam:CreateInstanceProfile",
    "iam:CreatePolicy",
    "iam:CreateRole",
    "iam:CreateServiceLinkedRole",
    "iam:DeleteRole",
    "iam:GetPolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfiles",
    "iam:TagInstanceProfile",
    "iam:TagPolicy",
    "iam:TagRole",
)

# `get_ongoing_doc()`, statement "Ongoing": launching and describing VMs, security groups,
# launch templates and logs of the clusters; kept on `*` as Coiled has it (most of these are
# Describe*/List* calls IAM authorizes only on `*`; RunInstances/CreateFleet touch images,
# subnets and groups Coiled picks at run time).
ONGOING_ACTIONS = (
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateFleet",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateLaunchTemplateVersion",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeImages",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeRegions",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:ModifyInstanceAttribute",
    "ec2:RunInstances",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "iam:ListPolicies",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:PutRetentionPolicy",
    "logs:TagLogGroup",
    "logs:TagResource",
)
# "OngoingDestructive": only on what Coiled tagged `owner: coiled` (Coiled's condition).
DESTRUCTIVE_ACTIONS = (
    "ec2:DeleteFleets",
    "ec2:DeleteLaunchTemplate",
    "ec2:DeleteLaunchTemplateVersions",
    "ec2:DeleteSecurityGroup",
    "ec2:TerminateInstances",
)
# "OngoingPlacementGroupPolicy", less `ec2:DescribePlacementGroups`: IAM authorizes that
# only on `*`, so on Coiled's `placement-group/coiled-*` it is never allowed; it is in
# DESCRIBE_ANYWHERE here instead.
PLACEMENT_GROUP_ACTIONS = ("ec2:CreatePlacementGroup", "ec2:DeletePlacementGroup")
DESCRIBE_ANYWHERE = ("ec2:DescribePlacementGroups",)
LOG_PULL_ACTIONS = ("logs:GetLogEvents", "logs:FilterLogEvents")
# "OptionalECR": Coiled builds and pulls software-environment images in the account's ECR.
ECR_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:CreateRepository",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:InitiateLayerUpload",
    "ecr:ListImages",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "ecr:TagResource",
)
# "OngoingPersistentDataBuckets" / "...Objects": Coiled's `coiled-data-*` buckets.
DATA_BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:ListBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
)
DATA_OBJECT_ACTIONS = ("s3:PutObject", "s3:GetObject")
# `INSTANCE_POLICY_DOCUMENT` (`CoiledInstancePolicy`): what the cluster VMs themselves may do.
INSTANCE_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# Coiled's own prefix for the instance role and profile and placement groups it names.
COILED_PREFIX = "coiled-"


def trust_policy(principal_arn: str, external_id: str) -> dict[str, Any]:
    """Only Coiled's control plane, presenting the workspace's external ID, may assume the role
    (the external ID guards against the confused-deputy problem: another Coiled customer
    cannot point Coiled at this role)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def setup_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Setup", "Effect": "Allow", "Action": list(SETUP_ACTIONS), "Resource": "*"}
        ],
    }


def ongoing_policy(
    account_id: str, instance_role_arn: str, instance_profile_arn: str
) -> dict[str, Any]:
    """Coiled's ongoing policy, its ARNs narrowed to this account (Coiled writes `arn:*:...:*:`,
    any partition and account; its control plane only ever acts in the account that trusts it)
    and the instance role passed only to EC2."""
    iam = f"arn:aws:iam::{account_id}"
    roles = [f"{iam}:role/{COILED_PREFIX}*", instance_role_arn]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Ongoing",
                "Effect": "Allow",
                "Action": [*ONGOING_ACTIONS, *DESCRIBE_ANYWHERE],
                "Resource": "*",
            },
            {
                "Sid": "OngoingInstanceProfile",
                "Effect": "Allow",
                "Action": ["iam:GetInstanceProfile"],
                # Coiled's own `coiled-*` profiles, and the one declared here.
                "Resource": [f"{iam}:instance-profile/{COILED_PREFIX}*", instance_profile_arn],
            },
            {
                "Sid": "OngoingGetInstanceRole",
                "Effect": "Allow",
                "Action": ["iam:GetRole"],
                "Resource": roles,
            },
            {
                # Coiled grants GetRole and PassRole together; PassRole is split out so the
                # role can be handed only to EC2 instances (all Coiled launches).
                "Sid": "OngoingPassInstanceRole",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {
                "Sid": "OngoingDestructive",
                "Effect": "Allow",
                "Action": list(DESTRUCTIVE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:ResourceTag/owner": "coiled"}},
            },
            {
                "Sid": "OngoingPlacementGroupPolicy",
                "Effect": "Allow",
                "Action": list(PLACEMENT_GROUP_ACTIONS),
                "Resource": f"arn:aws:ec2:*:{account_id}:placement-group/{COILED_PREFIX}*",
            },
            {
                "Sid": "OptionalLogPull",
                "Effect": "Allow",
                "Action": list(LOG_PULL_ACTIONS),
                # Coiled reads its clusters' logs from log groups it names at run time.
                "Resource": "*",
            },
            {"Sid": "OptionalECR", "Effect": "Allow", "Action": list(ECR_ACTIONS), "Resource": "*"},
            {
                "Sid": "OngoingPersistentDataBuckets",
                "Effect": "Allow",
                "Action": list(DATA_BUCKET_ACTIONS),
                "Resource": ["arn:aws:s3:::coiled-data-*"],
            },
            {
                "Sid": "OngoingPersistentDataObjects",
                "Effect": "Allow",
                "Action": list(DATA_OBJECT_ACTIONS),
                "Resource": ["arn:aws:s3:::coiled-data-*/*"],
            },
        ],
    }


def instance_trust_policy() -> dict[str, Any]:
    """The cluster VMs (EC2) carry the instance role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def instance_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CoiledEC2LogPolicy",
                "Effect": "Allow",
                "Action": list(INSTANCE_ACTIONS),
                # Coiled's VMs write to log groups Coiled names at run time.
                "Resource": "*",
            }
        ],
    }
