"""ECS: which of the helper's objects a pool's resources import, and the clean-up.

Import IDs follow the "Import" section of each resource's page in the Pulumi Registry
(pulumi-aws), cited next to each rule. IAM is global; the regional resources are imported
by the AWS provider of the stack, which must point at the pool's region for the import
(`pulumi config set aws:region <region>`).
"""

from __future__ import annotations

import ipaddress

from pushpools.components.aws.ecs_policies import EXECUTION_ROLE_POLICY_ARN
from pushpools.components.aws.settings import EcsSettings
from pushpools.components.config import PoolConfig
from pushpools_tools.migrate_model import Action, CloudPlan, Decision, Declared, Lookup, Step

ACCOUNT_ID = "<AWS_ACCOUNT_ID>"
VPC_ID = "<VPC_ID>"
HELPER_VPC_TAG = "prefect-ecs-vpc"
HELPER_SECURITY_GROUP = "prefect-ecs-security-group"

ROLE = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER = "aws:iam/user:User"
POLICY = "aws:iam/policy:Policy"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY_PROVIDERS = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NETWORK_TYPES = (VPC, INTERNET_GATEWAY, ROUTE_TABLE, SUBNET, ROUTE_TABLE_ASSOCIATION)

_NEW = {
    ROLE_POLICY: "the helper does not let the execution role create its log group",
    LOG_GROUP: "the helper makes no log group",
    LIFECYCLE_POLICY: "the helper sets no image lifecycle",
    CAPACITY_PROVIDERS: "the helper sets no capacity providers",
    SECURITY_GROUP: "the helper's group is never used by its template, and a group's "
    "description cannot change in place; pushpools makes its own, and the template uses it",
}


def _settings(pool: PoolConfig) -> EcsSettings:
    assert pool.aws is not None
    return pool.aws


def account_lookup() -> Lookup:
    return Lookup(ACCOUNT_ID, "aws sts get-caller-identity --query Account --output text")


def _vpc_lookup(region: str) -> Lookup:
    return Lookup(
        VPC_ID,
        f"aws ec2 describe-vpcs --region {region} --filters Name=tag:Name,Values="
        f"{HELPER_VPC_TAG} --query 'Vpcs[0].VpcId' --output text",
    )


def _route_table_lookup(region: str) -> Lookup:
    return Lookup(
        "<ROUTE_TABLE_ID>",
        f"aws ec2 describe-route-tables --region {region} --filters Name=vpc-id,Values="
        f"{VPC_ID} Name=route.gateway-id,Values=igw-* "
        "--query 'RouteTables[0].RouteTableId' --output text",
    )


def _subnet_lookup(region: str, zone: str, cidr: str) -> Lookup:
    return Lookup(
        f"<SUBNET_ID_{zone}>",
        f"aws ec2 describe-subnets --region {region} --filters Name=vpc-id,Values={VPC_ID} "
        f"Name=cidr-block,Values={cidr} --query 'Subnets[0].SubnetId' --output text",
    )


def decide_all(resources: list[Declared], *, helper_vpc: bool) -> dict[str, Decision]:
    """Each of a pool's resources -> what happens to it (by URN)."""
    subnets = {
        r.role.removeprefix("public-"): str(r.inputs["cidrBlock"])
        for r in resources
        if r.type == SUBNET
    }
    return {r.urn: _decide(r, subnets, helper_vpc=helper_vpc) for r in resources}


def _decide(resource: Declared, subnets: dict[str, str], *, helper_vpc: bool) -> Decision:
    aws = _settings(resource.pool)
    inputs = resource.inputs
    kind = resource.type
    if kind in _NEW:
        return Decision(Action.CREATE, why=_NEW[kind])
    if kind == ROLE:
        if inputs["name"] != aws.names.execution_role:
            return Decision(Action.CREATE, why="the helper gives the flow code no role")
        # pulumi-aws iam.Role, Import: using the `name`.
        return Decision(Action.IMPORT, inputs["name"])
    if kind == ROLE_POLICY_ATTACHMENT:
        if inputs["policyArn"] != EXECUTION_ROLE_POLICY_ARN:
            return Decision(Action.CREATE, why="a policy of the task role the helper lacks")
        # pulumi-aws iam.RolePolicyAttachment, Import: the role name and policy ARN
        # separated by `/`.
        return Decision(Action.IMPORT, f"{inputs['role']}/{inputs['policyArn']}")
    if kind == USER:
        # pulumi-aws iam.User, Import: using the `name`.
        return Decision(Action.IMPORT, inputs["name"])
    if kind == POLICY:
        # pulumi-aws iam.Policy, Import: using the `arn`.
        return Decision(
            Action.IMPORT,
            f"arn:aws:iam::{ACCOUNT_ID}:policy/{aws.names.policy}",
            lookups=(account_lookup(),),
        )
    if kind == USER_POLICY_ATTACHMENT:
        if resource.role != "prefect-policy-attachment":
            return Decision(Action.CREATE, why="the helper attaches no AWS-managed policy")
        # pulumi-aws iam.UserPolicyAttachment, Import: the user name and policy ARN
        # separated by `/`.
        return Decision(
            Action.IMPORT,
            f"{aws.user_name}/arn:aws:iam::{ACCOUNT_ID}:policy/{aws.names.policy}",
            lookups=(account_lookup(),),
        )
    if kind == ACCESS_KEY:
        return Decision(Action.NEW_KEY, why="AWS shows a secret access key only once")
    if kind == REPOSITORY:
        # pulumi-aws ecr.Repository, Import: using the `name`.
        return Decision(Action.IMPORT, inputs["name"])
    if kind == CLUSTER:
        # pulumi-aws ecs.Cluster, Import: using the cluster `name`.
        return Decision(Action.IMPORT, inputs["name"])
    if kind in NETWORK_TYPES:
        return _network(resource, aws, subnets, helper_vpc=helper_vpc)
    raise LookupError(kind)


def _network(
    resource: Declared, aws: EcsSettings, subnets: dict[str, str], *, helper_vpc: bool
) -> Decision:
    if not helper_vpc:
        return Decision(
            Action.CREATE,
            why="a VPC of the pool's own (`--helper-vpc` imports the helper's instead)",
        )
    region = aws.region
    vpc = _vpc_lookup(region)
    if resource.type == VPC:
        # pulumi-aws ec2.Vpc, Import: using the VPC `id`.
        return Decision(Action.IMPORT, VPC_ID, lookups=(vpc,))
    if resource.type == INTERNET_GATEWAY:
        # pulumi-aws ec2.InternetGateway, Import: using the `id`.
        gateway = Lookup(
            "<INTERNET_GATEWAY_ID>",
            f"aws ec2 describe-internet-gateways --region {region} --filters "
            f"Name=attachment.vpc-id,Values={VPC_ID} "
            "--query 'InternetGateways[0].InternetGatewayId' --output text",
        )
        return Decision(Action.IMPORT, gateway.placeholder, lookups=(vpc, gateway))
    if resource.type == ROUTE_TABLE:
        # pulumi-aws ec2.RouteTable, Import: using the route table `id`.
        table = _route_table_lookup(region)
        return Decision(Action.IMPORT, table.placeholder, lookups=(vpc, table))
    # A subnet and its route-table association are named after the subnet's zone.
    zone = resource.role.removeprefix("public-").removesuffix("-routes")
    subnet = _subnet_lookup(region, zone, subnets[zone])
    if resource.type == SUBNET:
        # pulumi-aws ec2.Subnet, Import: using the subnet `id`.
        return Decision(Action.IMPORT, subnet.placeholder, lookups=(vpc, subnet))
    # pulumi-aws ec2.RouteTableAssociation, Import: the associated resource ID and the
    # route table ID separated by `/` (`subnet-42334554/rtb-33435334`).
    table = _route_table_lookup(region)
    return Decision(
        Action.IMPORT,
        f"{subnet.placeholder}/{table.placeholder}",
        lookups=(vpc, subnet, table),
    )


def helper_vpc_problems(pool: PoolConfig, index: int) -> list[str]:
    """Why `--helper-vpc` cannot apply to this pool's config, if it cannot."""
    aws = _settings(pool)
    key = f"pushpools:pools[{index}].aws.network"
    if aws.network.vpc_id is not None:
        return [
            f"{key}.vpc_id: {aws.network.vpc_id!r} names an existing VPC, so the pool declares "
            "no VPC to import the helper's into; allowed with --helper-vpc: no vpc_id, and "
            "cidr_block set to the helper's VPC CIDR"
        ]
    if (
        aws.network.cidr_block is None
        or ipaddress.IPv4Network(aws.network.cidr_block).prefixlen != 16
    ):
        return [
            f"{key}.cidr_block: {aws.network.cidr_block!r} cannot be the helper's VPC, which "
            "is a /16 (its subnets are three of its /18 quarters); allowed with --helper-vpc: "
            "the CIDR `aws ec2 describe-vpcs --filters Name=tag:Name,Values=prefect-ecs-vpc "
            "--query 'Vpcs[0].CidrBlock'` prints"
        ]
    return []


def plan(pool: PoolConfig, *, helper_vpc: bool) -> CloudPlan:
    aws = _settings(pool)
    region = f"--region {aws.region}"
    user = aws.user_name
    cloud = CloudPlan()
    cloud.before_import.append(
        Step(
            "Point the stack's AWS provider at the pool's region for the import (the "
            "regional resources are looked up there)",
            (f"pulumi config set aws:region {aws.region}",),
        )
    )
    cloud.before_up.append(
        Step(
            f"IAM allows two access keys per user, and the helper adds one to {user!r} for "
            "every pool it makes: if the user has two already, delete one that no block "
            "uses, or `pulumi up` cannot create the new key",
            (f"aws iam list-access-keys --user-name {user}",),
        )
    )
    group_lookup = (
        f"aws ec2 describe-security-groups {region} --filters "
        f"Name=group-name,Values={HELPER_SECURITY_GROUP} "
        "--query 'SecurityGroups[0].GroupId' --output text"
    )
    delete_group = Step(
        f"Delete the helper's security group {HELPER_SECURITY_GROUP!r}: its template never "
        "used it"
        + (", and in its VPC the name is the one pushpools' own group takes" if helper_vpc else ""),
        (f"aws ec2 delete-security-group {region} --group-id $({group_lookup})",),
    )
    (cloud.before_up if helper_vpc else cloud.after_up).append(delete_group)
    cloud.after_up.append(
        Step(
            f"Delete the helper's access key of {user!r} (the block holds the new key: its ID "
            f"is the ID of `{pool.name}-access-key-{aws.key_generation}` in "
            "`pulumi stack --show-ids`)",
            (
                f"aws iam list-access-keys --user-name {user}",
                f"aws iam delete-access-key --user-name {user} --access-key-id <OLD_KEY_ID>",
            ),
        )
    )
    if aws.network.vpc_id is None and not helper_vpc:
        cloud.after_up.append(_delete_helper_vpc(region))
    if helper_vpc:
        cloud.notes.append(
            "The subnets are matched to the helper's by zone and CIDR: the helper used the "
            "first three zones of the region, pushpools the first three available in "
            "alphabetical order where Fargate runs (by zone ID). Check they agree: "
            f"`aws ec2 describe-subnets {region} "
            f"--filters Name=vpc-id,Values={VPC_ID} --query "
            "'Subnets[].[AvailabilityZone,CidrBlock]'`."
        )
    return cloud


def _delete_helper_vpc(region: str) -> Step:
    in_vpc = "--filters Name=vpc-id,Values=$VPC"
    return Step(
        f"Only if the helper made a VPC ({HELPER_VPC_TAG!r}: when the account had no default "
        "VPC): nothing runs in it any more; delete its subnets, route table and internet "
        "gateway, then the VPC",
        (
            f"VPC=$(aws ec2 describe-vpcs {region} --filters Name=tag:Name,Values="
            f"{HELPER_VPC_TAG} --query 'Vpcs[0].VpcId' --output text)",
            f"for s in $(aws ec2 describe-subnets {region} {in_vpc} --query "
            f"'Subnets[].SubnetId' --output text); do aws ec2 delete-subnet {region} "
            "--subnet-id $s; done",
            f"for t in $(aws ec2 describe-route-tables {region} {in_vpc} "
            "Name=association.main,Values=false --query 'RouteTables[].RouteTableId' "
            f"--output text); do aws ec2 delete-route-table {region} --route-table-id $t; done",
            f"IGW=$(aws ec2 describe-internet-gateways {region} --filters "
            "Name=attachment.vpc-id,Values=$VPC --query "
            "'InternetGateways[0].InternetGatewayId' --output text)",
            f"aws ec2 detach-internet-gateway {region} --internet-gateway-id $IGW --vpc-id $VPC",
            f"aws ec2 delete-internet-gateway {region} --internet-gateway-id $IGW",
            f"aws ec2 delete-vpc {region} --vpc-id $VPC",
        ),
    )
