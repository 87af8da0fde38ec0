"""What the Google Cloud provider returns for the resources pushpools declares."""

from __future__ import annotations

import base64
import json
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from pushpools_tools.provider_mocks import stable_id, stable_number
from pushpools_tools.provider_mocks.keys import private_key_pem


def _service(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    inputs = args.inputs
    return f"{inputs['project']}/{inputs['service']}", dict(inputs)


def _repository(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    id_ = f"projects/{i['project']}/locations/{i['location']}/repositories/{i['repositoryId']}"
    return id_, {**i, "name": i["repositoryId"], "createTime": "2026-01-01T00:00:00Z"}


def _account(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    email = f"{i['accountId']}@{i['project']}.iam.gserviceaccount.com"
    name = f"projects/{i['project']}/serviceAccounts/{email}"
    return name, {
        **i,
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": name,
        "uniqueId": stable_number(email, digits=21),
    }


def _iam_member(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    scope = i.get("project") or i.get("serviceAccountId")
    return f"{scope}/{i['role']}/{i['member']}", {
        **i,
        "etag": "BwY" + stable_id(args.name, length=8),
    }


def _key(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    account_name = args.inputs["serviceAccountId"]  # projects/P/serviceAccounts/EMAIL
    _, project, _, email = account_name.split("/")
    key_id = stable_id(
        args.name, account_name, json.dumps(args.inputs.get("keepers", {})), length=40
    )
    key_file = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": private_key_pem(),
        "client_email": email,
        "client_id": stable_number(email, digits=21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
    }
    return f"{account_name}/keys/{key_id}", {
        **args.inputs,
        "name": f"{account_name}/keys/{key_id}",
        "keyAlgorithm": "KEY_ALG_RSA_2048",
        "privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE",
        "privateKey": base64.b64encode(json.dumps(key_file).encode()).decode(),
        "publicKey": base64.b64encode(b"public-" + key_id.encode()).decode(),
        "validAfter": "2026-01-01T00:00:00Z",
        "validBefore": "9999-12-31T23:59:59Z",
    }


def _workload_identity_pool(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    number = stable_number("project-number", i["project"])
    name = f"projects/{number}/locations/global/workloadIdentityPools/{i['workloadIdentityPoolId']}"
    return name, {**i, "name": name, "state": "ACTIVE"}


def _workload_identity_pool_provider(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    number = stable_number("project-number", i["project"])
    name = (
        f"projects/{number}/locations/global/workloadIdentityPools/"
        f"{i['workloadIdentityPoolId']}/providers/{i['workloadIdentityPoolProviderId']}"
    )
    return name, {**i, "name": name, "state": "ACTIVE"}


def _custom_role(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    name = f"projects/{i['project']}/roles/{i['roleId']}"
    return name, {**i, "name": name, "deleted": False}


# Private networking: a Serverless VPC Access connector, subnet grants, a project's number.
def _connector(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    name = f"projects/{i['project']}/locations/{i['region']}/connectors/{i['name']}"
    return name, {**i, "selfLink": name, "state": "READY", "connectedProjects": [i["project"]]}


def _subnetwork_member(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    subnet = f"projects/{i['project']}/regions/{i['region']}/subnetworks/{i['subnetwork']}"
    return f"{subnet}/{i['role']}/{i['member']}", {**i, "etag": "BwY" + stable_id(args.name)}


def _get_project(args: MockCallArgs) -> dict[str, Any]:
    project = args.args["projectId"]
    return {
        "projectId": project,
        "number": stable_number("project-number", project),
        "name": project,
        "id": f"projects/{project}",
    }


RESOURCES = {
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": _workload_identity_pool,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": (
        _workload_identity_pool_provider
    ),
    "gcp:projects/service:Service": _service,
    "gcp:artifactregistry/repository:Repository": _repository,
    "gcp:serviceaccount/account:Account": _account,
    "gcp:projects/iAMMember:IAMMember": _iam_member,
    "gcp:serviceaccount/iAMMember:IAMMember": _iam_member,
    "gcp:serviceaccount/key:Key": _key,
    # Coiled's cloud setup (components/coiled/gcp_setup.py).
    "gcp:projects/iAMCustomRole:IAMCustomRole": _custom_role,
    "gcp:vpcaccess/connector:Connector": _connector,
    "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember": _subnetwork_member,
}

CALLS: dict[str, Any] = {
    "gcp:organizations/getProject:getProject": _get_project,
}


# The Prefect API key in Secret Manager (components/gcp/api_key_secret.py).
def _secret(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    number = stable_number("project-number", i["project"])
    return f"projects/{i['project']}/secrets/{i['secretId']}", {
        **i,
        "name": f"projects/{number}/secrets/{i['secretId']}",
        "createTime": "2026-01-01T00:00:00Z",
    }


def _secret_version(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    name = f"{args.inputs['secret']}/versions/1"
    return name, {**args.inputs, "name": name, "version": "1", "enabled": True}


def _secret_iam_member(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    return f"projects/{i['project']}/secrets/{i['secretId']}/{i['role']}/{i['member']}", {
        **i,
        "etag": "BwY" + stable_id(args.name, length=8),
    }


RESOURCES.update(
    {
        "gcp:secretmanager/secret:Secret": _secret,
        "gcp:secretmanager/secretVersion:SecretVersion": _secret_version,
        "gcp:secretmanager/secretIamMember:SecretIamMember": _secret_iam_member,
    }
)
