"""The tasks' network: an existing VPC's subnets, or a new VPC in one of three layouts.

- `egress: public` (the default, and the only layout before private networking): one public
  subnet per zone where Fargate runs, routed to an internet gateway; tasks get a public IP.
- `egress: nat`: a private subnet per zone, routed to a NAT gateway (one, or one per zone)
  that sits in a public subnet of its zone; tasks get no public IP.
- `egress: endpoints`: a private subnet per zone with no route out of the VPC at all; the
  tasks reach ECR, S3 (image layers) and CloudWatch Logs through VPC endpoints.

Both private layouts get the S3 gateway endpoint on their route tables: it is free, and
image layers then bypass the NAT gateway's per-GB charge.

The private layouts' resources have logical names of their own (`<pool>-private-vpc`, ...):
switching a pool between `public` and a private layout builds the new VPC beside the old one
and then deletes the old one, instead of replacing subnets in place, which AWS would refuse
(a new subnet may not overlap one that still exists in the same VPC).
"""

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, get_availability_zones

from pushpools.components.aws.fargate_zones import fargate_zones
from pushpools.components.aws.settings import EcsSettings, Egress, NatGateways

MAX_ZONES = 3


@dataclass(frozen=True)
class Network:
    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    """The subnets the tasks run in (the template's `network_configuration`)."""
    private_route_table_ids: list[pulumi.Output[str]] = field(default_factory=list)
    """Route tables of a new VPC's private subnets, for the S3 gateway endpoint."""


def new_network(
    name: str, aws: EcsSettings, tags: dict[str, str], parent: pulumi.Resource
) -> Network:
    """A new VPC with subnets in up to three zones where Fargate runs, laid out as
    `network.egress` says."""
    region = aws.region
    listed = get_availability_zones(
        state="available",
        # Standard zones only: Local and Wavelength Zones an account opted into are
        # listed too (and sort first by name), but Fargate does not run there. The
        # `zone-type` filter of DescribeAvailabilityZones (EC2 API reference).
        filters=[{"name": "zone-type", "values": ["availability-zone"]}],
        region=region,
        opts=pulumi.InvokeOptions(parent=parent),
    )
    cidr = ipaddress.IPv4Network(aws.network.new_vpc_cidr)
    # Quarters of the VPC, one per zone slot: three zones, and a quarter left for later or
    # for the fourth zone when one of the first three runs no Fargate.
    quarters = list(cidr.subnets(prefixlen_diff=2))
    zones = fargate_zones(
        region, listed.names, listed.zone_ids, slots=len(quarters), limit=MAX_ZONES
    )
    if not zones:
        raise pulumi.RunError(
            f"AWS lists no available availability zone where Fargate runs in {region}"
        )
    if aws.network.new_vpc_egress is Egress.PUBLIC:
        return _public_network(name, aws, tags, parent, zones, quarters)
    return _private_network(name, aws, tags, parent, zones)


def _public_network(
    name: str,
    aws: EcsSettings,
    tags: dict[str, str],
    parent: pulumi.Resource,
    zones: list[tuple[str, int]],
    quarters: list[ipaddress.IPv4Network],
) -> Network:
    """One public subnet per zone, routed to an internet gateway."""
    opts = pulumi.ResourceOptions(parent=parent)
    vpc = _vpc(f"{name}-vpc", aws, tags, opts)
    _, subnets = _public_subnets(
        name, aws, tags, opts, vpc, [(zone, quarters[slot]) for zone, slot in zones]
    )
    subnet_ids = [subnet.id for subnet in subnets.values()]
    return Network(vpc_id=vpc.id, subnet_ids=pulumi.Output.all(*subnet_ids))


def _private_network(
    name: str,
    aws: EcsSettings,
    tags: dict[str, str],
    parent: pulumi.Resource,
    zones: list[tuple[str, int]],
) -> Network:
    """A private subnet per zone, each with its own route table: to a NAT gateway with
    `egress: nat`, nowhere outside the VPC with `egress: endpoints`."""
    opts = pulumi.ResourceOptions(parent=parent)
    region = aws.region
    named = str(aws.names.vpc)
    # Eighths of the VPC by zone slot: private subnets take the first four, the NAT
    # gateways' public subnets the last four. A /24 VPC still gets /27 subnets (27 usable
    # addresses each), so every CIDR the settings allow (/16 to /24) fits this layout.
    eighths = list(ipaddress.IPv4Network(aws.network.new_vpc_cidr).subnets(prefixlen_diff=3))
    vpc = _vpc(f"{name}-private-vpc", aws, tags, opts)

    nat_by_zone = (
        _nat_gateways(name, aws, tags, opts, vpc, zones, eighths)
        if aws.network.new_vpc_egress is Egress.NAT
        else {}
    )
    subnet_ids, route_table_ids = [], []
    for zone, slot in zones:
        subnet = ec2.Subnet(
            f"{name}-private-{zone}",
            vpc_id=vpc.id,
            cidr_block=str(eighths[slot]),
            availability_zone=zone,
            region=region,
            tags={**tags, "Name": f"{named}-private-{zone}"},
            opts=opts,
        )
        # No inline routes: the NAT route is a resource of its own, and the S3 gateway
        # endpoint adds its prefix-list route to these tables itself.
        routes = ec2.RouteTable(
            f"{name}-private-{zone}-routes",
            vpc_id=vpc.id,
            region=region,
            tags={**tags, "Name": f"{named}-private-{zone}"},
            opts=opts,
        )
        ec2.RouteTableAssociation(
            f"{name}-private-{zone}-routes-association",
            subnet_id=subnet.id,
            route_table_id=routes.id,
            region=region,
            opts=opts,
        )
        if nat_by_zone:
            # The zone's own NAT gateway, or the one gateway all zones share.
            nat = nat_by_zone.get(zone) or next(iter(nat_by_zone.values()))
            ec2.Route(
                f"{name}-private-{zone}-nat-route",
                route_table_id=routes.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                region=region,
                opts=opts,
            )
        subnet_ids.append(subnet.id)
        route_table_ids.append(routes.id)
    return Network(
        vpc_id=vpc.id,
        subnet_ids=pulumi.Output.all(*subnet_ids),
        private_route_table_ids=route_table_ids,
    )


def _nat_gateways(
    name: str,
    aws: EcsSettings,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    vpc: ec2.Vpc,
    zones: list[tuple[str, int]],
    eighths: list[ipaddress.IPv4Network],
) -> dict[str, ec2.NatGateway]:
    """Zone -> NAT gateway, each in a public subnet of its zone routed to an internet
    gateway: in the first zone only, or in every zone with `nat_gateways: per_zone`."""
    region = aws.region
    named = str(aws.names.vpc)
    per_zone = aws.network.nat_gateways is NatGateways.PER_ZONE
    gateway, subnets = _public_subnets(
        f"{name}-nat",
        aws,
        tags,
        opts,
        vpc,
        [(zone, eighths[4 + slot]) for zone, slot in (zones if per_zone else zones[:1])],
    )
    nats = {}
    for zone, subnet in subnets.items():
        address = ec2.Eip(
            f"{name}-nat-{zone}-address",
            domain="vpc",
            region=region,
            tags={**tags, "Name": f"{named}-nat-{zone}"},
            opts=opts,
        )
        nats[zone] = ec2.NatGateway(
            f"{name}-nat-{zone}",
            allocation_id=address.allocation_id,
            subnet_id=subnet.id,
            connectivity_type="public",
            region=region,
            tags={**tags, "Name": f"{named}-nat-{zone}"},
            # A public NAT gateway forwards through the VPC's internet gateway: AWS asks
            # for the gateway to be attached first.
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[gateway])),
        )
    return nats


def _public_subnets(
    prefix: str,
    aws: EcsSettings,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    vpc: ec2.Vpc,
    zone_ranges: list[tuple[str, ipaddress.IPv4Network]],
) -> tuple[ec2.InternetGateway, dict[str, ec2.Subnet]]:
    """An internet gateway and, per zone, a public subnet routed to it: the tasks' own
    subnets in the public layout (`prefix` the pool's name), or the NAT gateways' in the
    `nat` layout (`<pool>-nat`)."""
    region = aws.region
    named = str(aws.names.vpc)  # resolved by the config layer
    gateway = ec2.InternetGateway(
        f"{prefix}-internet-gateway",
        vpc_id=vpc.id,
        region=region,
        tags={**tags, "Name": named},
        opts=opts,
    )
    routes = ec2.RouteTable(
        f"{prefix}-public-routes",
        vpc_id=vpc.id,
        routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
        region=region,
        tags={**tags, "Name": f"{named}-public"},
        opts=opts,
    )
    subnets = {}
    for zone, cidr in zone_ranges:
        subnets[zone] = ec2.Subnet(
            f"{prefix}-public-{zone}",
            vpc_id=vpc.id,
            cidr_block=str(cidr),
            availability_zone=zone,
            region=region,
            tags={**tags, "Name": f"{named}-public-{zone}"},
            opts=opts,
        )
        ec2.RouteTableAssociation(
            f"{prefix}-public-{zone}-routes",
            subnet_id=subnets[zone].id,
            route_table_id=routes.id,
            region=region,
            opts=opts,
        )
    return gateway, subnets


def _vpc(
    logical_name: str, aws: EcsSettings, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> ec2.Vpc:
    return ec2.Vpc(
        logical_name,
        cidr_block=aws.network.new_vpc_cidr,
        # ECR and Prefect are reached by DNS name; interface endpoints' private DNS names
        # need both settings too.
        enable_dns_support=True,
        enable_dns_hostnames=True,
        region=aws.region,
        tags={**tags, "Name": str(aws.names.vpc)},
        opts=opts,
    )


def vpc_endpoints(
    name: str,
    aws: EcsSettings,
    network: Network,
    task_security_group_id: pulumi.Output[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    secrets_manager: bool = False,
) -> None:
    """A private layout's VPC endpoints: the S3 gateway on its route tables, and with
    `egress: endpoints` the interface endpoints (private DNS on, so the AWS SDKs and the
    ECS agent reach them under the services' usual names) behind a security group that
    lets in HTTPS from the pool's tasks only. `secrets_manager`: add Secrets Manager's
    endpoint, for task definitions whose secrets the ECS agent fetches from it."""
    if not network.private_route_table_ids:
        return
    opts = pulumi.ResourceOptions(parent=parent)
    region = aws.region
    named = str(aws.names.vpc)
    ec2.VpcEndpoint(
        f"{name}-s3-endpoint",
        vpc_id=network.vpc_id,
        service_name=f"com.amazonaws.{region}.s3",
        vpc_endpoint_type="Gateway",
        route_table_ids=network.private_route_table_ids,
        region=region,
        tags={**tags, "Name": f"{named}-s3"},
        opts=opts,
    )
    services = aws.network.interface_endpoints(secrets_manager=secrets_manager)
    if not services:
        return
    group = ec2.SecurityGroup(
        f"{name}-endpoints-security-group",
        name=f"{aws.names.security_group}-endpoints",
        description=f"VPC endpoints of the Prefect work pool {name}: HTTPS from its tasks",
        vpc_id=network.vpc_id,
        ingress=[
            {
                "protocol": "tcp",
                "from_port": 443,
                "to_port": 443,
                "security_groups": [task_security_group_id],
                "description": "HTTPS from the pool's tasks",
            }
        ],
        # Endpoints only answer (security groups are stateful): no egress at all.
        egress=[],
        region=region,
        tags=tags,
        opts=opts,
    )
    for service in services:
        ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}-endpoint",
            vpc_id=network.vpc_id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Interface",
            subnet_ids=network.subnet_ids,
            security_group_ids=[group.id],
            private_dns_enabled=True,
            region=region,
            tags={**tags, "Name": f"{named}-{service}"},
            opts=opts,
        )
