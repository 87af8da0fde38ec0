"""What the AWS provider returns for the resources and invokes pushpools uses.

IDs have AWS's shapes (`vpc-` and 17 hex digits, 20-character access key IDs, ...) and
ARNs are built from the inputs, the region and one fake account, so that policies and
template defaults computed from them look exactly as they would in a real account.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import grpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from pushpools_tools.provider_mocks import stable_id

ACCOUNT_ID = "123456789012"  # AWS's own documentation account
DEFAULT_REGION = "us-east-1"  # the provider's region when a resource names none

# Availability zones as `DescribeAvailabilityZones` lists them for the mocked account: zone
# name -> zone ID. AWS maps names to IDs per account in its oldest regions, and an account
# that old still sees zones since closed to new accounts (usw1-az2, apne1-az3), where
# Fargate does not run. Regions not listed here have three zones, a-c, az1-az3.
_ZONES = {
    "us-east-1": {
        "us-east-1a": "use1-az4",
        "us-east-1b": "use1-az6",
        "us-east-1c": "use1-az1",
        "us-east-1d": "use1-az2",
        "us-east-1e": "use1-az3",
        "us-east-1f": "use1-az5",
    },
    "us-west-1": {"us-west-1a": "usw1-az3", "us-west-1b": "usw1-az2", "us-west-1c": "usw1-az1"},
    "us-west-2": {
        "us-west-2a": "usw2-az1",
        "us-west-2b": "usw2-az2",
        "us-west-2c": "usw2-az3",
        "us-west-2d": "usw2-az4",
    },
    "ap-northeast-1": {
        "ap-northeast-1a": "apne1-az4",
        "ap-northeast-1b": "apne1-az3",
        "ap-northeast-1c": "apne1-az1",
        "ap-northeast-1d": "apne1-az2",
    },
}
# Local Zones of the mocked account (it opted into Los Angeles).
_LOCAL_ZONES = {"us-west-2": {"us-west-2-lax-1a": "usw2-lax1-az1"}}


def _region(args: MockResourceArgs) -> str:
    return args.inputs.get("region") or DEFAULT_REGION


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _ec2_id(prefix: str, args: MockResourceArgs) -> str:
    return f"{prefix}-{stable_id(args.typ, args.name, length=17)}"


def _unique_id(prefix: str, args: MockResourceArgs) -> str:
    # IAM unique IDs: a 4-letter type prefix and 17 upper-case letters and digits.
    digest = base64.b32encode(hashlib.sha256(args.name.encode()).digest()).decode()
    return prefix + digest[:17]


def _iam_arn(kind: str, args: MockResourceArgs) -> str:
    path = args.inputs.get("path") or "/"
    return f"arn:aws:iam::{ACCOUNT_ID}:{kind}{path}{args.inputs['name']}"


def _role(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    return i["name"], {
        **i,
        "arn": _iam_arn("role", args),
        "path": i.get("path") or "/",
        "uniqueId": _unique_id("AROA", args),
        "createDate": "2026-01-01T00:00:00Z",
        "maxSessionDuration": i.get("maxSessionDuration", 3600),
    }


def _instance_profile(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    return i["name"], {
        **i,
        "arn": _iam_arn("instance-profile", args),
        "path": i.get("path") or "/",
        "uniqueId": _unique_id("AIPA", args),
        "createDate": "2026-01-01T00:00:00Z",
    }


def _user(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    return i["name"], {
        **i,
        "arn": _iam_arn("user", args),
        "path": i.get("path") or "/",
        "uniqueId": _unique_id("AIDA", args),
    }


def _policy(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    arn = _iam_arn("policy", args)
    return arn, {
        **args.inputs,
        "arn": arn,
        "path": args.inputs.get("path") or "/",
        "policyId": _unique_id("ANPA", args),
        "attachmentCount": 1,
    }


def _role_policy(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    return f"{i['role']}:{i['name']}", dict(i)


def _attachment(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    principal = i.get("role") or i.get("user")
    return f"{principal}/{i['policyArn']}", dict(i)


def _access_key(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    key_id = "AKIA" + _unique_id("", args)[:16]
    # 40 characters of base64, as IAM's secret access keys are.
    secret = base64.b64encode(hashlib.sha256(("secret/" + args.name).encode()).digest())
    return key_id, {
        **args.inputs,
        "id": key_id,
        "secret": secret.decode()[:40],
        "sesSmtpPasswordV4": "B" + stable_id("smtp", args.name, length=43),
        "status": args.inputs.get("status") or "Active",
        "createDate": "2026-01-01T00:00:00Z",
    }


def _oidc_provider(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # IAM names an OIDC provider by its URL without the scheme; its ID is its ARN.
    host_path = args.inputs["url"].removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host_path}"
    return arn, {
        **args.inputs,
        "arn": arn,
        # Without thumbprints in the request, IAM records the issuer's certificate's.
        "thumbprintLists": args.inputs.get("thumbprintLists")
        or [stable_id("thumbprint", host_path, length=40)],
        "tagsAll": args.inputs.get("tags") or {},
    }


def _log_group(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    # The provider reports the ARN without the `:*` that DescribeLogGroups appends.
    return i["name"], {
        **i,
        "arn": _arn("logs", _region(args), f"log-group:{i['name']}"),
        "region": _region(args),
        "logGroupClass": "STANDARD",
    }


def _cluster(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    arn = _arn("ecs", _region(args), f"cluster/{args.inputs['name']}")
    return arn, {**args.inputs, "arn": arn, "region": _region(args)}


def _capacity_providers(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    return args.inputs["clusterName"], {**args.inputs, "region": _region(args)}


def _repository(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    region = _region(args)
    return i["name"], {
        **i,
        "arn": _arn("ecr", region, f"repository/{i['name']}"),
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{i['name']}",
        "region": region,
    }


def _lifecycle_policy(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    return args.inputs["repository"], {
        **args.inputs,
        "registryId": ACCOUNT_ID,
        "region": _region(args),
    }


def _ec2(prefix: str, arn_kind: str | None = None) -> Callable[..., tuple[str, dict[str, Any]]]:
    def create(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        id_ = _ec2_id(prefix, args)
        state = {**args.inputs, "id": id_, "region": _region(args), "ownerId": ACCOUNT_ID}
        if arn_kind is not None:
            state["arn"] = _arn("ec2", _region(args), f"{arn_kind}/{id_}")
        return id_, state

    return create


def _vpc(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    id_, state = _ec2("vpc", "vpc")(args)
    return id_, {
        **state,
        "defaultSecurityGroupId": _ec2_id("sg", args),
        "mainRouteTableId": _ec2_id("rtb", args),
        "defaultNetworkAclId": _ec2_id("acl", args),
        "instanceTenancy": args.inputs.get("instanceTenancy") or "default",
    }


def _subnet(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    id_, state = _ec2("subnet", "subnet")(args)
    zone = args.inputs["availabilityZone"]
    return id_, {**state, "availabilityZoneId": _zone_id(zone)}


def _zones_of(region: str) -> dict[str, str]:
    """The region's standard zones in the mocked account: name -> zone ID."""
    if region in _ZONES:
        return _ZONES[region]
    parts = region.split("-")
    short = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]
    return {f"{region}{letter}": f"{short}-az{number}" for number, letter in enumerate("abc", 1)}


def _zone_id(zone: str) -> str:
    for region in (zone.rsplit("-", 2)[0], zone[:-1]):
        zones = {**_zones_of(region), **_LOCAL_ZONES.get(region, {})}
        if zone in zones:
            return zones[zone]
    raise KeyError(f"the mocked account has no availability zone {zone!r}")


def _availability_zones(args: MockCallArgs) -> dict[str, Any]:
    region = args.args.get("region") or DEFAULT_REGION
    zones = dict(_zones_of(region))
    # As an account opted into a Local Zone sees it: listed with the region's zones (and
    # sorting first), unless a `zone-type` filter asks for standard zones only.
    zone_types = {
        value
        for f in args.args.get("filters") or []
        if f.get("name") == "zone-type"
        for value in f.get("values", [])
    }
    local = _LOCAL_ZONES.get(region, {})
    if local and (not zone_types or "local-zone" in zone_types):
        zones = {**local, **zones}
    if zone_types and "availability-zone" not in zone_types:
        zones = {name: zone_id for name, zone_id in zones.items() if name in local}
    return {
        "id": region,
        "region": region,
        "names": list(zones),
        "zoneIds": list(zones.values()),
        "groupNames": [region] * len(zones),
        "state": args.args.get("state"),
    }


# What the mocked account already holds, as most accounts do: the ECS service-linked role
# (ECS made it with the account's first cluster), and Prefect Cloud's OIDC provider, made
# by hand as Prefect's guide shows (untagged). Tests change these to model other accounts.
ACCOUNT_ROLES: dict[str, dict[str, Any]] = {
    "AWSServiceRoleForECS": {
        "path": "/aws-service-role/ecs.amazonaws.com/",
        "description": "Role to enable Amazon ECS to manage your cluster.",
        "tags": {},
    }
}
ACCOUNT_OIDC_PROVIDERS: dict[str, dict[str, Any]] = {
    "api.prefect.cloud/oidc-provider": {"clientIdLists": ["prefect-cloud"], "tags": {}}
}


class ProviderError(grpc.RpcError):
    """A provider's failed invoke, as the engine reports it to the program (a gRPC error
    whose details the SDK raises as `invoke of <token> failed: <details>`)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


def _not_found(token: str, what: str) -> ProviderError:
    # The AWS provider's data sources: "reading <what>: couldn't find resource".
    return ProviderError(
        f"invocation of {token} returned an error: invoking {token}: 1 error occurred:\n"
        f"\t* reading {what}: couldn't find resource"
    )


def _get_role(args: MockCallArgs) -> dict[str, Any]:
    name = args.args["name"]
    if name not in ACCOUNT_ROLES:
        raise _not_found(args.token, f"IAM Role ({name})")
    role = ACCOUNT_ROLES[name]
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role{role['path']}{name}",
        "path": role["path"],
        "description": role["description"],
        "uniqueId": "AROA" + stable_id("role", name, length=17).upper(),
        "createDate": "2024-03-01T00:00:00Z",
        "maxSessionDuration": 3600,
        "tags": dict(role["tags"]),
    }


def _get_oidc_provider(args: MockCallArgs) -> dict[str, Any]:
    url = args.args["url"]
    host_path = url.removeprefix("https://")
    if host_path not in ACCOUNT_OIDC_PROVIDERS:
        raise _not_found(args.token, f"IAM OIDC Provider ({url})")
    provider = ACCOUNT_OIDC_PROVIDERS[host_path]
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host_path}"
    return {
        "id": arn,
        "arn": arn,
        # IAM returns the URL without its scheme.
        "url": host_path,
        "clientIdLists": list(provider["clientIdLists"]),
        "thumbprintLists": [stable_id("thumbprint", host_path, length=40)],
        "tags": dict(provider["tags"]),
    }


def _service_linked_role(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    service = args.inputs["awsServiceName"]
    name = {"ecs.amazonaws.com": "AWSServiceRoleForECS"}[service]
    path = f"/aws-service-role/{service}/"
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}"
    return arn, {
        **args.inputs,
        "arn": arn,
        "name": name,
        "path": path,
        "uniqueId": _unique_id("AROA", args),
        "createDate": "2026-01-01T00:00:00Z",
    }


# --- private networking: NAT gateways, addresses, routes, VPC endpoints ---------------


def _eip(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # An Elastic IP's ID is its allocation ID; its address is a public one (TEST-NET-2).
    allocation = _ec2_id("eipalloc", args)
    digest = hashlib.sha256(args.name.encode()).digest()
    return allocation, {
        **args.inputs,
        "allocationId": allocation,
        "publicIp": f"198.51.100.{digest[0] % 254 + 1}",
        "publicDns": f"ec2-198-51-100-{digest[0] % 254 + 1}.compute-1.amazonaws.com",
        "domain": args.inputs.get("domain") or "vpc",
        "networkBorderGroup": _region(args),
        "region": _region(args),
        "arn": _arn("ec2", _region(args), f"elastic-ip/{allocation}"),
    }


def _nat_gateway(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    id_, state = _ec2("nat")(args)
    return id_, {
        **state,
        "connectivityType": args.inputs.get("connectivityType") or "public",
        "networkInterfaceId": _ec2_id("eni", args),
        "privateIp": "10.0.128.10",
    }


def _route(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # The provider's ID: `r-<route table>` and a hash of the destination.
    i = args.inputs
    destination = i.get("destinationCidrBlock") or i.get("destinationPrefixListId") or ""
    digest = int(hashlib.sha256(destination.encode()).hexdigest()[:8], 16)
    return f"r-{i['routeTableId']}{digest}", {**i, "origin": "CreateRoute", "state": "active"}


# The S3 prefix lists of the mocked account's regions, as DescribePrefixLists names them.
_S3_PREFIX_LISTS = {"us-east-1": "pl-63a5400a", "us-west-2": "pl-68a54001"}


def _vpc_endpoint(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    id_, state = _ec2("vpce", "vpc-endpoint")(args)
    i = args.inputs
    region = _region(args)
    service = i["serviceName"]
    state = {**state, "state": "available", "requesterManaged": False}
    if i.get("vpcEndpointType") == "Gateway":
        prefix_list = _S3_PREFIX_LISTS.get(region, "pl-" + stable_id("pl", region, length=8))
        return id_, {**state, "prefixListId": prefix_list, "routeTableIds": i["routeTableIds"]}
    suffix = service.removeprefix(f"com.amazonaws.{region}.")
    return id_, {
        **state,
        "networkInterfaceIds": [f"eni-{stable_id(id_, s, length=17)}" for s in i["subnetIds"]],
        "dnsEntries": [
            {
                "dnsName": f"{id_}-{stable_id('dns', id_, length=8)}.{suffix}.{region}"
                ".vpce.amazonaws.com",
                "hostedZoneId": "Z7HUB22UULQXV",
            }
        ],
    }


def _caller_identity(args: MockCallArgs) -> dict[str, Any]:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/pushpools-deployer",
        "userId": "AIDAEXAMPLEDEPLOYER01",
    }


RESOURCES = {
    "aws:iam/role:Role": _role,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:iam/user:User": _user,
    "aws:iam/policy:Policy": _policy,
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": _attachment,
    "aws:iam/accessKey:AccessKey": _access_key,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:ecs/cluster:Cluster": _cluster,
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _capacity_providers,
    "aws:ecr/repository:Repository": _repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _lifecycle_policy,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2("rtbassoc"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", "security-group"),
    # Coiled's cloud setup (components/coiled/aws_setup.py).
    "aws:iam/instanceProfile:InstanceProfile": _instance_profile,
    # private networking
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/route:Route": _route,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
}

CALLS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:iam/getRole:getRole": _get_role,
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": _get_oidc_provider,
}


# The Prefect API key in Secrets Manager (components/aws/api_key_secret.py).
def _secret(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # Secrets Manager appends a dash and six random characters to the name in the ARN.
    suffix = stable_id(args.typ, args.name, length=6)
    arn = _arn("secretsmanager", _region(args), f"secret:{args.inputs['name']}-{suffix}")
    return arn, {**args.inputs, "arn": arn}


def _secret_version(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # Never derived from the value: no digest of a secret in the outputs.
    version_id = stable_id(args.typ, args.name, length=32)
    secret_arn = args.inputs["secretId"]
    return f"{secret_arn}|{version_id}", {
        **args.inputs,
        "arn": secret_arn,
        "secretArn": secret_arn,
        "versionId": version_id,
        "versionStages": ["AWSCURRENT"],
    }


RESOURCES.update(
    {
        "aws:secretsmanager/secret:Secret": _secret,
        "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    }
)
