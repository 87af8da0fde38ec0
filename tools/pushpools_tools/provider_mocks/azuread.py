"""What the Entra ID (azuread) provider returns for the resources pushpools declares."""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from pushpools_tools.provider_mocks import stable_id
from pushpools_tools.provider_mocks.azure import MOCK_TENANT_ID


def _guid(*parts: str) -> str:
    return str(uuid.UUID(stable_id(*parts, length=32)))


# The principal the simulated `pulumi up` signs in to Entra ID as (a deploy app's service
# principal): its application (client) ID and its object ID, which differ, as in Entra.
DEPLOYER_CLIENT_ID = _guid("deployer", "client")
DEPLOYER_OBJECT_ID = _guid("deployer", "service-principal")


def _application(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    object_id = _guid("application", args.name, args.inputs["displayName"])
    return f"/applications/{object_id}", {
        **args.inputs,
        "objectId": object_id,
        "clientId": _guid("application-client", object_id),
        "publisherDomain": "pushpools.onmicrosoft.com",
        "signInAudience": "AzureADMyOrg",
    }


def _service_principal(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    client_id = args.inputs["clientId"]
    object_id = _guid("service-principal", client_id)
    return f"/servicePrincipals/{object_id}", {
        **args.inputs,
        "objectId": object_id,
        "applicationTenantId": MOCK_TENANT_ID,
        "type": "Application",
        "servicePrincipalNames": [client_id],
    }


def _application_password(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    # A new end date or rotation trigger replaces the password: a new key ID and value.
    key_id = _guid(
        "password",
        args.name,
        i["applicationId"],
        str(i.get("rotateWhenChanged")),
        str(i.get("endDate")),
    )
    # Shaped like an Entra client secret: 40 characters, a `~` at the fourth position.
    value = f"{stable_id(key_id, length=3)}8Q~{stable_id('secret', key_id, length=36)}"[:40]
    return f"{i['applicationId']}/password/{key_id}", {
        **i,
        "keyId": key_id,
        "startDate": "2026-01-01T00:00:00Z",
        "value": value,
    }


def _federated_credential(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    i = args.inputs
    credential_id = _guid("federated", i["applicationId"], i["subject"])
    return f"{i['applicationId']}/federatedIdentityCredential/{credential_id}", {
        **i,
        "credentialId": credential_id,
    }


def _client_config(args: MockCallArgs) -> dict[str, Any]:
    # The provider's data source takes no arguments and answers from its login; its ID
    # joins the three values.
    del args
    return {
        "id": f"{MOCK_TENANT_ID}-{DEPLOYER_CLIENT_ID}-{DEPLOYER_OBJECT_ID}",
        "clientId": DEPLOYER_CLIENT_ID,
        "objectId": DEPLOYER_OBJECT_ID,
        "tenantId": MOCK_TENANT_ID,
    }


RESOURCES = {
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (
        _federated_credential
    ),
    "azuread:index/application:Application": _application,
    "azuread:index/servicePrincipal:ServicePrincipal": _service_principal,
    "azuread:index/applicationPassword:ApplicationPassword": _application_password,
}

CALLS = {
    "azuread:index/getClientConfig:getClientConfig": _client_config,
}
