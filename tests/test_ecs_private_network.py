"""ECS tasks in private subnets (`network.egress: nat | endpoints`, or an existing VPC's
private subnets): the resource graph the stack program declares, and the config checks."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from pushpools.components.aws.settings import EcsNetwork
from pushpools_tools.engine import ProgramRun, Registration
from tests.harness import config_problems, inputs, outputs, run_pools

VPC = "aws:ec2/vpc:Vpc"
GATEWAY = "aws:ec2/internetGateway:InternetGateway"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
POLICY = "aws:iam/policy:Policy"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def _pool(**network: Any) -> dict[str, Any]:
    aws = {"region": "us-east-1", **({"network": network} if network else {})}
    return {"name": "dev-ecs", "type": "ecs:push", "aws": aws}


@pytest.fixture(scope="module")
def nat_run() -> ProgramRun:
    return run_pools(_pool(egress="nat"))


@pytest.fixture(scope="module")
def per_zone_run() -> ProgramRun:
    return run_pools(_pool(egress="nat", nat_gateways="per_zone", cidr_block="10.9.0.0/24"))


@pytest.fixture(scope="module")
def endpoints_run() -> ProgramRun:
    return run_pools(_pool(egress="endpoints"))


def _id(resource: Registration) -> str:
    return outputs(resource)["id"]


def _private_subnets(run: ProgramRun) -> dict[str, Registration]:
    """Zone -> the private subnet there."""
    return {inputs(s)["availabilityZone"]: s for s in run.find(SUBNET) if "-private-" in s.name}


def _route_table_of(run: ProgramRun, subnet: Registration) -> str:
    (association,) = [
        inputs(a) for a in run.find(ROUTE_ASSOCIATION) if inputs(a)["subnetId"] == _id(subnet)
    ]
    return association["routeTableId"]


def _routes_out_of(run: ProgramRun, route_table_id: str) -> list[dict[str, Any]]:
    """Every route a table gets to outside the VPC: its inline routes and Route resources."""
    (table,) = [t for t in run.find(ROUTE_TABLE) if _id(t) == route_table_id]
    inline = inputs(table).get("routes") or []
    separate = [inputs(r) for r in run.find(ROUTE) if inputs(r)["routeTableId"] == route_table_id]
    return [*inline, *separate]


def _defaults(run: ProgramRun) -> dict[str, Any]:
    return run.outputs["pools"]["dev-ecs"]["template_defaults"]


# --- egress: nat ---------------------------------------------------------------------


def test_nat_private_subnets_route_to_the_nat_gateway_and_never_to_the_internet_gateway(
    nat_run: ProgramRun,
) -> None:
    (nat,) = nat_run.find(NAT)
    (gateway,) = nat_run.find(GATEWAY)
    private = _private_subnets(nat_run)
    assert sorted(private) == list(ZONES)
    for subnet in private.values():
        routes = _routes_out_of(nat_run, _route_table_of(nat_run, subnet))
        assert routes == [
            {
                "routeTableId": _route_table_of(nat_run, subnet),
                "destinationCidrBlock": "0.0.0.0/0",
                "natGatewayId": _id(nat),
                "region": "us-east-1",
            }
        ]
        assert _id(gateway) not in json.dumps(routes)


def test_the_one_nat_gateway_sits_in_a_public_subnet_routed_to_the_internet_gateway(
    nat_run: ProgramRun,
) -> None:
    (nat,) = nat_run.find(NAT)
    (address,) = nat_run.find(EIP)
    (gateway,) = nat_run.find(GATEWAY)
    (public,) = [s for s in nat_run.find(SUBNET) if "-nat-public-" in s.name]
    assert inputs(nat)["subnetId"] == _id(public)
    assert inputs(nat)["allocationId"] == outputs(address)["allocationId"]
    assert inputs(nat)["connectivityType"] == "public"
    assert inputs(address)["domain"] == "vpc"
    assert inputs(public)["availabilityZone"] == "us-east-1a"
    assert _routes_out_of(nat_run, _route_table_of(nat_run, public)) == [
        {"cidrBlock": "0.0.0.0/0", "gatewayId": _id(gateway)}
    ]
    vpc_id = _id(nat_run.one(VPC))
    assert inputs(gateway)["vpcId"] == vpc_id
    assert {inputs(s)["vpcId"] for s in nat_run.find(SUBNET)} == {vpc_id}


def test_per_zone_nat_gateways_serve_their_own_zone(per_zone_run: ProgramRun) -> None:
    nats = {inputs(n)["subnetId"]: n for n in per_zone_run.find(NAT)}
    publics = {
        inputs(s)["availabilityZone"]: _id(s)
        for s in per_zone_run.find(SUBNET)
        if "-nat-public-" in s.name
    }
    assert sorted(publics) == list(ZONES)
    assert len(nats) == len(per_zone_run.find(EIP)) == 3
    for zone, subnet in _private_subnets(per_zone_run).items():
        (route,) = _routes_out_of(per_zone_run, _route_table_of(per_zone_run, subnet))
        assert route["natGatewayId"] == _id(nats[publics[zone]])


def test_a_small_vpc_still_fits_every_subnet_without_overlap(per_zone_run: ProgramRun) -> None:
    # /24 is the smallest VPC allowed: six /27 subnets (27 usable addresses each).
    vpc = ipaddress.ip_network(inputs(per_zone_run.one(VPC))["cidrBlock"])
    subnets = [ipaddress.ip_network(inputs(s)["cidrBlock"]) for s in per_zone_run.find(SUBNET)]
    assert len(subnets) == 6
    assert all(s.subnet_of(vpc) and s.prefixlen == 27 for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


# --- egress: endpoints ---------------------------------------------------------------


def test_endpoints_layout_has_no_way_out_of_the_vpc(endpoints_run: ProgramRun) -> None:
    for type_ in (GATEWAY, NAT, EIP, ROUTE):
        assert endpoints_run.find(type_) == [], type_
    for subnet in _private_subnets(endpoints_run).values():
        assert _routes_out_of(endpoints_run, _route_table_of(endpoints_run, subnet)) == []
    assert all("-private-" in s.name for s in endpoints_run.find(SUBNET))


def test_interface_endpoints_for_ecr_and_logs_with_private_dns_in_every_private_subnet(
    endpoints_run: ProgramRun,
) -> None:
    vpc_id = _id(endpoints_run.one(VPC))
    group = _id(endpoints_run.one(SECURITY_GROUP, "dev-ecs-endpoints-security-group"))
    private_ids = sorted(_id(s) for s in _private_subnets(endpoints_run).values())
    interface = {
        inputs(e)["serviceName"]: inputs(e)
        for e in endpoints_run.find(ENDPOINT)
        if inputs(e)["vpcEndpointType"] == "Interface"
    }
    assert sorted(interface) == [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
    ]
    for endpoint in interface.values():
        assert endpoint["vpcId"] == vpc_id
        assert endpoint["privateDnsEnabled"] is True
        assert sorted(endpoint["subnetIds"]) == private_ids
        assert endpoint["securityGroupIds"] == [group]


@pytest.mark.parametrize("layout", ["nat_run", "endpoints_run"])
def test_the_s3_gateway_endpoint_is_on_every_private_route_table(
    layout: str, request: pytest.FixtureRequest
) -> None:
    run: ProgramRun = request.getfixturevalue(layout)
    (s3,) = [e for e in run.find(ENDPOINT) if inputs(e)["vpcEndpointType"] == "Gateway"]
    assert inputs(s3)["serviceName"] == "com.amazonaws.us-east-1.s3"
    tables = {_route_table_of(run, s) for s in _private_subnets(run).values()}
    assert len(tables) == 3
    assert set(inputs(s3)["routeTableIds"]) == tables


def test_the_endpoints_let_in_https_from_the_pools_tasks_only(endpoints_run: ProgramRun) -> None:
    tasks = _id(endpoints_run.one(SECURITY_GROUP, "dev-ecs-security-group"))
    group = inputs(endpoints_run.one(SECURITY_GROUP, "dev-ecs-endpoints-security-group"))
    assert group["name"] == "dev-ecs-tasks-endpoints"
    assert group["vpcId"] == _id(endpoints_run.one(VPC))
    assert group["ingress"] == [
        {
            "protocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "securityGroups": [tasks],
            "description": "HTTPS from the pool's tasks",
        }
    ]
    assert group["egress"] == []


def test_extra_endpoints_and_the_secret_stores_endpoint() -> None:
    run = run_pools(_pool(egress="endpoints", extra_endpoints=["sts", "secretsmanager"]))
    services = sorted(
        inputs(e)["serviceName"].removeprefix("com.amazonaws.us-east-1.")
        for e in run.find(ENDPOINT)
    )
    assert services == ["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager", "sts"]
    # What a feature that puts a secret in Secrets Manager asks for, listed once.
    network = EcsNetwork(egress="endpoints", extra_endpoints=["secretsmanager"])
    assert network.interface_endpoints(secrets_manager=True) == [
        "ecr.api",
        "ecr.dkr",
        "logs",
        "secretsmanager",
    ]
    assert EcsNetwork(egress="nat").interface_endpoints(secrets_manager=True) == []


# --- what every private layout shares --------------------------------------------------


@pytest.mark.parametrize("layout", ["nat_run", "endpoints_run"])
def test_the_template_runs_tasks_in_the_private_subnets_without_a_public_ip(
    layout: str, request: pytest.FixtureRequest
) -> None:
    run: ProgramRun = request.getfixturevalue(layout)
    defaults = _defaults(run)
    assert defaults["vpc_id"] == _id(run.one(VPC))
    assert defaults["network_configuration"] == {
        "subnets": [_id(_private_subnets(run)[zone]) for zone in ZONES],
        "securityGroups": [_id(run.one(SECURITY_GROUP, "dev-ecs-security-group"))],
        "assignPublicIp": "DISABLED",
    }


def test_an_existing_vpcs_private_subnets_get_no_public_ip() -> None:
    network = {
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "subnet_ids": ["subnet-0a1b2c3d4e5f60719"],
        "assign_public_ip": False,
    }
    run = run_pools(_pool(**network))
    assert _defaults(run)["network_configuration"]["assignPublicIp"] == "DISABLED"
    for type_ in (VPC, SUBNET, NAT, ENDPOINT, ROUTE_TABLE):
        assert run.find(type_) == [], type_


def test_switching_layouts_builds_a_new_vpc_instead_of_overlapping_subnets(
    nat_run: ProgramRun, endpoints_run: ProgramRun
) -> None:
    # Same logical name, new CIDR: Pulumi would create the replacement subnet first, in the
    # same VPC, and AWS refuses overlapping subnets. Distinct names avoid that.
    public_run = run_pools(_pool())
    network = (VPC, GATEWAY, SUBNET, ROUTE_TABLE, ROUTE_ASSOCIATION)
    public = {(r.type, r.name) for t in network for r in public_run.find(t)}
    private = {(r.type, r.name) for t in network for r in nat_run.find(t)}
    assert public
    assert private
    assert not public & private
    # Between the private layouts, the private subnets stay as they are.
    nat_subnets = {s.name: inputs(s)["cidrBlock"] for s in _private_subnets(nat_run).values()}
    endpoint_subnets = {
        s.name: inputs(s)["cidrBlock"] for s in _private_subnets(endpoints_run).values()
    }
    assert nat_subnets == endpoint_subnets


@pytest.mark.parametrize("layout", ["nat_run", "endpoints_run"])
def test_the_prefect_key_holds_the_same_policy_in_every_layout(
    layout: str, request: pytest.FixtureRequest
) -> None:
    # The private layouts are created by `pulumi up`'s identity; Prefect's key still needs
    # only what the ECS worker calls (tests/test_ecs_worker_calls.py runs it).
    run: ProgramRun = request.getfixturevalue(layout)
    public_run = run_pools(_pool())
    policy = inputs(run.one(POLICY, "dev-ecs-prefect-policy"))["policy"]
    assert policy == inputs(public_run.one(POLICY, "dev-ecs-prefect-policy"))["policy"]


# --- refused before anything is declared ---------------------------------------------


def _problems(**network: Any) -> list[str]:
    return config_problems({"pushpools:pools": [_pool(**network)]})


KEY = "pushpools:pools[0].aws.network"


@pytest.mark.parametrize(
    ("network", "key", "says"),
    [
        (
            {
                "vpc_id": "vpc-0123456789abcdef0",
                "subnet_ids": ["subnet-0123456789abcdef0"],
                "egress": "nat",
            },
            "egress",
            "'nat' describes the subnets of a new VPC, but vpc_id names an existing one",
        ),
        ({"nat_gateways": "per_zone"}, "nat_gateways", "egress is public (the default)"),
        (
            {"egress": "endpoints", "nat_gateways": "one"},
            "nat_gateways",
            "egress is endpoints, which creates no NAT gateway",
        ),
        (
            {"egress": "nat", "extra_endpoints": ["secretsmanager"]},
            "extra_endpoints",
            "egress is nat, which creates no interface endpoints",
        ),
        (
            {"egress": "endpoints", "extra_endpoints": ["sts", "sts"]},
            "extra_endpoints",
            "'sts' is listed twice",
        ),
        ({"egress": "endpoints", "extra_endpoints": ["ecs"]}, "extra_endpoints[0]", "'ecs'"),
        (
            {"egress": "nat", "assign_public_ip": True},
            "assign_public_ip",
            "true is not allowed with egress: nat",
        ),
        ({"egress": "private"}, "egress", "'private' is not allowed"),
    ],
)
def test_contradictions_are_refused_naming_the_key(
    network: dict[str, Any], key: str, says: str
) -> None:
    (problem,) = _problems(**network)
    assert problem.startswith(f"{KEY}.{key}: "), problem
    assert says in problem, problem


def test_every_network_problem_in_one_pass() -> None:
    problems = _problems(
        egress="endpoints",
        nat_gateways="per_zone",
        extra_endpoints=["kms"],
        cidr_block="10.0.0.0/8",
    )
    assert [p.split(":")[1].split(" ")[0] for p in problems] == [
        "pools[0].aws.network.cidr_block",
        "pools[0].aws.network.nat_gateways",
        "pools[0].aws.network.extra_endpoints[0]",
    ]
