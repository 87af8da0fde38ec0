"""Every kind of pool pushpools knows, one row each: the registry.

A row names everything that differs between kinds: the work-pool types, the settings model
(the pool's section of the stack config), the component, the Prefect credentials block and
the template variable that references it, the secret config keys it reads, and the offline
engine's provider mocks. Modules are named, not imported: a stack imports only the rows it
uses, and this module stays free of Pulumi and of every cloud SDK.

Adding a kind of pool is a new folder under components/ (settings.py, pool.py) and one row
here (and its section field on `PoolConfig`, which a test checks).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PoolType(StrEnum):
    CLOUD_RUN_PUSH = "cloud-run:push"
    CLOUD_RUN_V2_PUSH = "cloud-run-v2:push"
    ECS_PUSH = "ecs:push"
    AZURE_CONTAINER_INSTANCE_PUSH = "azure-container-instance:push"
    MODAL_PUSH = "modal:push"
    PREFECT_MANAGED = "prefect:managed"
    COILED_PUSH = "coiled:push"
    # Worker types: self-hosted Prefect servers know no push pools; these need the
    # same cloud prerequisites, with a worker polling instead of Prefect Cloud pushing.
    CLOUD_RUN = "cloud-run"
    CLOUD_RUN_V2 = "cloud-run-v2"
    ECS = "ecs"
    AZURE_CONTAINER_INSTANCE = "azure-container-instance"
    # prefect-coiled's worker (CoiledWorker.type); a self-hosted server knows it once
    # prefect-coiled is installed where its workers run.
    COILED = "coiled"


class Cloud(StrEnum):
    """Also the name of the pool's settings section in the stack config."""

    GCP = "gcp"
    AWS = "aws"
    AZURE = "azure"
    MODAL = "modal"
    MANAGED = "managed"
    COILED = "coiled"


_COMPONENTS = "pushpools.components"
_MOCKS = "pushpools_tools.provider_mocks"


@dataclass(frozen=True)
class PoolKind:
    """One kind of pool: what it needs from Prefect and from a cloud."""

    cloud: Cloud
    types: tuple[PoolType, ...]
    """Its work-pool types; the first is the component's default."""
    settings: str
    """`module:Class` of the settings model of its section (pure: no Pulumi)."""
    component: str
    """`module:Class` of its component."""
    block_type_slug: str | None
    """Type of the Prefect credentials block the pool's template points at; None: no block."""
    credentials_variable: str | None
    """The base-job-template variable that holds the block reference."""
    default_block_name: str
    """Default block name, as Prefect's own `--provision-infra` helper names it."""
    creates_cloud_resources: bool = True
    """Whether it creates named, labelled cloud resources. Kinds that create none take
    neither `naming` nor `labels`, and their section may be left out (all defaults)."""
    takes_labels: bool = True
    """Whether its resources carry the stack's labels (Managed pools: their AWS role)."""
    cloud_resources_opt_in: bool = False
    """Whether it creates cloud resources only when its section opts in (Coiled's
    `cloud_setup`): its section may then be left out, and `naming` is refused without them."""
    secret_args: Mapping[str, str] = field(default_factory=dict)
    """Component argument -> the settings field that names the secret config key the stack
    program reads it from (Modal's token). A dotted field (`prefect_api_key_secret.config_key`)
    lies in an optional section: the arg is taken, and required, only where that section is
    set (see `secret_setting`)."""
    provider_mocks: Mapping[str, str] = field(default_factory=dict)
    """Provider package of a type token -> the offline engine's mock module for it."""

    def settings_model(self) -> Any:
        return _load(self.settings)

    def component_class(self) -> Any:
        return _load(self.component)


def secret_setting(section: Any, setting: str) -> Any:
    """The value of a secret arg's setting in a section (a settings model, or the mapping it
    is read from: there only as written), None where the optional section holding it is
    unset."""
    *parents, leaf = setting.split(".")
    node = section
    for part in parents:
        node = node.get(part) if isinstance(node, Mapping) else getattr(node, part, None)
        if node is None:
            return None
    if isinstance(node, Mapping):
        return node.get(leaf)
    return getattr(node, leaf, None)


# The stored Prefect credentials (config/api_key_secret.py): their arg, and where their
# secret config key is named (by default Prefect's own keys, prefectApiKey and
# prefectAuthString).
_STORED_PREFECT_CREDENTIALS = {
    "prefect_api_key": "prefect_api_key_secret.config_key",
    "prefect_api_auth_string": "prefect_api_auth_string_secret.config_key",
}

# The extra that installs each cloud SDK a component imports.
_EXTRA_OF_SDK = {
    "pulumi_gcp": "gcp",
    "pulumi_aws": "aws",
    "pulumi_azure_native": "azure",
    "pulumi_azuread": "azure",
}


class MissingCloudSdkError(ImportError):
    """A pool of a cloud whose SDK is not installed: which extra installs it."""


def _load(reference: str) -> Any:
    module, name = reference.split(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        extra = _EXTRA_OF_SDK.get(str(error.name).split(".")[0])
        if extra is None:
            raise
        raise MissingCloudSdkError(
            f"{reference.split(':')[1]} needs the {error.name} package: install "
            f"pushpools[{extra}] (or pushpools[all])"
        ) from error


KINDS: tuple[PoolKind, ...] = (
    PoolKind(
        cloud=Cloud.GCP,
        types=(
            PoolType.CLOUD_RUN_PUSH,
            PoolType.CLOUD_RUN_V2_PUSH,
            PoolType.CLOUD_RUN,
            PoolType.CLOUD_RUN_V2,
        ),
        settings=f"{_COMPONENTS}.gcp.settings:CloudRunSettings",
        component=f"{_COMPONENTS}.gcp.pool:CloudRunPushPool",
        block_type_slug="gcp-credentials",
        credentials_variable="credentials",
        default_block_name="{pool}-push-pool-credentials",
        secret_args=_STORED_PREFECT_CREDENTIALS,
        provider_mocks={"gcp": f"{_MOCKS}.gcp"},
    ),
    PoolKind(
        cloud=Cloud.AWS,
        types=(PoolType.ECS_PUSH, PoolType.ECS),
        settings=f"{_COMPONENTS}.aws.settings:EcsSettings",
        component=f"{_COMPONENTS}.aws.pool:EcsPushPool",
        block_type_slug="aws-credentials",
        credentials_variable="aws_credentials",
        default_block_name="{pool}-aws-credentials",
        secret_args=_STORED_PREFECT_CREDENTIALS,
        provider_mocks={"aws": f"{_MOCKS}.aws"},
    ),
    PoolKind(
        cloud=Cloud.AZURE,
        types=(PoolType.AZURE_CONTAINER_INSTANCE_PUSH, PoolType.AZURE_CONTAINER_INSTANCE),
        settings=f"{_COMPONENTS}.azure.settings:AciSettings",
        component=f"{_COMPONENTS}.azure.pool:AciPushPool",
        block_type_slug="azure-container-instance-credentials",
        credentials_variable="aci_credentials",
        default_block_name="{pool}-push-pool-credentials",
        provider_mocks={"azure-native": f"{_MOCKS}.azure", "azuread": f"{_MOCKS}.azuread"},
    ),
    PoolKind(
        cloud=Cloud.MODAL,
        types=(PoolType.MODAL_PUSH,),
        settings=f"{_COMPONENTS}.modal.settings:ModalSettings",
        component=f"{_COMPONENTS}.modal.pool:ModalPushPool",
        block_type_slug="modal-credentials",
        credentials_variable="modal_credentials",
        default_block_name="{pool}-modal-credentials",
        creates_cloud_resources=False,
        takes_labels=False,
        secret_args={"token_id": "token_id_key", "token_secret": "token_secret_key"},
    ),
    PoolKind(
        cloud=Cloud.MANAGED,
        types=(PoolType.PREFECT_MANAGED,),
        settings=f"{_COMPONENTS}.managed.settings:ManagedSettings",
        component=f"{_COMPONENTS}.managed.pool:ManagedPool",
        block_type_slug=None,
        credentials_variable=None,
        default_block_name="",
        creates_cloud_resources=False,
        # Its optional keyless AWS access (an IAM role Prefect Cloud assumes).
        provider_mocks={"aws": f"{_MOCKS}.aws"},
    ),
    PoolKind(
        cloud=Cloud.COILED,
        types=(PoolType.COILED_PUSH, PoolType.COILED),
        settings=f"{_COMPONENTS}.coiled.settings:CoiledSettings",
        component=f"{_COMPONENTS}.coiled.pool:CoiledPushPool",
        # prefect-coiled's CoiledCredentials block and the worker's `credentials` variable.
        block_type_slug="coiled-credentials",
        credentials_variable="credentials",
        default_block_name="{pool}-coiled-credentials",
        # Nothing in a cloud unless `coiled.cloud_setup` declares Coiled's own setup (an AWS
        # role and policies, or GCP service accounts and roles): named and tagged then.
        cloud_resources_opt_in=True,
        secret_args={"api_token": "token_key"},
        provider_mocks={"aws": f"{_MOCKS}.aws", "gcp": f"{_MOCKS}.gcp"},
    ),
)

POOL_KINDS: dict[PoolType, PoolKind] = {t: kind for kind in KINDS for t in kind.types}
KIND_OF_CLOUD: dict[Cloud, PoolKind] = {kind.cloud: kind for kind in KINDS}

SUPPORTED_CLOUDS: frozenset[Cloud] = frozenset(KIND_OF_CLOUD)
"""Clouds with a component in this version; other pool types are refused, never ignored."""
