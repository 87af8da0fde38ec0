"""Coiled: a `coiled:push` pool (or a `coiled` worker pool) runs each flow on a Coiled VM.

Prefect's `--provision-infra` helper only stores a Coiled API token in a
`coiled-credentials` block (`{"api_token": ...}`, prefect-coiled's `CoiledCredentials`) and
points the template's `credentials` variable at it. The stack program reads the token from
secret stack config, so it is a Pulumi secret from the start; a new token set there
rotates it (the block is updated in place).

Coiled's own cloud setup (what `coiled setup aws|gcp` creates) is opt-in per pool
(`cloud_setup`): aws_setup.py, gcp_setup.py. Their cloud SDKs are imported only for a pool
that has one, so a Coiled pool without it needs no cloud SDK at all.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from pushpools.components.coiled.settings import CoiledSettings
from pushpools.components.config import Cloud, PoolType
from pushpools.components.naming import Naming
from pushpools.components.pool_component import PoolComponent


class CoiledAwsNamesArgs(TypedDict):
    """Names of the IAM objects of Coiled's AWS setup (`CoiledAwsNames`)."""

    role: NotRequired[str]
    setup_policy: NotRequired[str]
    ongoing_policy: NotRequired[str]
    instance_role: NotRequired[str]
    instance_profile: NotRequired[str]


class CoiledAwsSetupArgs(TypedDict):
    """Coiled's setup of an AWS account (`cloud_setup.aws`, described by `CoiledAwsSetup`)."""

    coiled_principal: str
    external_id: str
    setup_policy_attached: NotRequired[bool]
    names: NotRequired[CoiledAwsNamesArgs]


class CoiledGcpNamesArgs(TypedDict):
    """Names of the service accounts and roles of Coiled's GCP setup (`CoiledGcpNames`)."""

    service_account: NotRequired[str]
    data_service_account: NotRequired[str]
    role: NotRequired[str]
    data_role: NotRequired[str]


class CoiledGcpSetupArgs(TypedDict):
    """Coiled's setup of a GCP project (`cloud_setup.gcp`, described by `CoiledGcpSetup`)."""

    project: str
    enable_apis: NotRequired[bool]
    names: NotRequired[CoiledGcpNamesArgs]


class CoiledCloudSetupArgs(TypedDict):
    """Coiled's own cloud setup: exactly one of `aws` and `gcp`."""

    aws: NotRequired[CoiledAwsSetupArgs]
    gcp: NotRequired[CoiledGcpSetupArgs]


class CoiledPushPoolArgs(TypedDict):
    """The `coiled` section of a Coiled pool in the stack config, with the same keys (each
    described by `CoiledSettings`), the pool-level keys, and the token itself, where the
    stack config names the secret key that holds it."""

    api_token: pulumi.Input[str]
    """Coiled API token (the stack program reads it from `token_key`)."""
    type: NotRequired[PoolType]
    """`coiled:push` (default) or `coiled` (a prefect-coiled worker polls the pool)."""
    credentials_block_name: NotRequired[str]
    naming: NotRequired[Naming]
    """How unset names of the cloud setup are made (only with `cloud_setup`)."""
    labels: NotRequired[dict[str, str]]
    """Tags of the cloud setup's AWS resources."""
    workspace: NotRequired[str]
    region: NotRequired[str]
    software: NotRequired[str]
    image: NotRequired[str]
    vm_types: NotRequired[list[str]]
    arm: NotRequired[bool]
    cpu: NotRequired[int]
    memory: NotRequired[str]
    gpu: NotRequired[bool]
    env: NotRequired[dict[str, str]]
    additional_coiled_options: NotRequired[dict[str, Any]]
    cloud_setup: NotRequired[CoiledCloudSetupArgs]


class CoiledPushPool(PoolComponent):
    """One Coiled work pool: its credentials block payload and template defaults."""

    RESOURCE_TYPE = "pushpools:coiled:CoiledPushPool"
    CLOUD = Cloud.COILED

    coiled_role_arn: pulumi.Output[str] | None
    """With `cloud_setup.aws`: the ARN of the role Coiled assumes, to paste in Coiled's UI."""
    coiled_service_account_email: pulumi.Output[str] | None
    """With `cloud_setup.gcp`: the account whose key Coiled's UI takes."""
    coiled_data_service_account_email: pulumi.Output[str] | None
    """With `cloud_setup.gcp`: the account the cluster VMs carry, to name in Coiled's UI."""

    def __init__(
        self,
        name: str,
        args: CoiledPushPoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)

    def _declare(self) -> None:
        coiled = self._cloud_settings(CoiledSettings)
        self.coiled_role_arn = None
        self.coiled_service_account_email = None
        self.coiled_data_service_account_email = None
        setup = coiled.cloud_setup
        if setup is not None and setup.aws is not None:
            from pushpools.components.coiled.aws_setup import coiled_aws_setup

            aws, grants = coiled_aws_setup(self.pool_name, setup.aws, self._labels, parent=self)
            self.coiled_role_arn = aws.role_arn
            self.grants.extend(grants)
        if setup is not None and setup.gcp is not None:
            from pushpools.components.coiled.gcp_setup import coiled_gcp_setup

            gcp, grants = coiled_gcp_setup(self.pool_name, setup.gcp, parent=self)
            self.coiled_service_account_email = gcp.service_account_email
            self.coiled_data_service_account_email = gcp.data_service_account_email
            self.grants.extend(grants)
        self._finish(
            # prefect-coiled's CoiledCredentials has one field, `api_token`.
            credentials_data=pulumi.Output.all(api_token=self._secret("api_token")),
            template_defaults=coiled.template_defaults(),
            image_namespace=None,
            outputs={
                "coiledRoleArn": self.coiled_role_arn,
                "coiledServiceAccountEmail": self.coiled_service_account_email,
                "coiledDataServiceAccountEmail": self.coiled_data_service_account_email,
            },
        )

    def coiled_setup_summary(self) -> dict[str, Any] | None:
        """What to enter in Coiled's setup page (None: no cloud setup)."""
        if self.coiled_role_arn is not None:
            return {"aws_role_arn": self.coiled_role_arn}
        if self.coiled_service_account_email is not None:
            return {
                "gcp_service_account": self.coiled_service_account_email,
                "gcp_data_service_account": self.coiled_data_service_account_email,
            }
        return None
