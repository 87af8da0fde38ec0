"""What every pool component hands to the Prefect side, whatever its cloud.

No `from __future__ import annotations` here or in the component modules: Pulumi's component
provider host reads these annotations at run time to build the package schema, and every
class-level annotation on a component is one of its outputs.
"""

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Self, TypedDict, TypeVar

import pulumi

from pushpools.components.config import PoolConfig, PoolType
from pushpools.components.config.pool_types import KIND_OF_CLOUD, Cloud
from pushpools.components.pool_args import PoolArgs, validate_args

SettingsT = TypeVar("SettingsT")
ResourceT = TypeVar("ResourceT", bound=pulumi.Resource)
PACKAGE = "pushpools"
"""The package name other languages know the components by."""
_SERVED = ContextVar("pushpools_served_to_other_languages", default=False)


@contextlib.contextmanager
def serving_other_languages() -> Iterator[None]:
    """While the component provider host constructs a component for another language."""
    token = _SERVED.set(True)
    try:
        yield
    finally:
        _SERVED.reset(token)


@dataclass(frozen=True)
class CredentialsBlock:
    """A Prefect credentials block to register: its type, name and (secret) data."""

    type_slug: str
    name: str
    data: pulumi.Output[dict[str, Any]]
    """Always a Pulumi secret: it holds the identity's key."""
    template_variable: str
    """The base-job-template variable that must reference this block."""


class CredentialsBlockPayload(TypedDict):
    """A Prefect credentials block: what to register, and where the pool's template uses it."""

    type_slug: str
    """The block type, e.g. `gcp-credentials`."""
    name: str
    """The block document's name."""
    data: dict[str, Any]
    """The block's data: the identity's key (secret)."""
    template_variable: str
    """The base-job-template variable that must reference the block."""


class PoolComponent(pulumi.ComponentResource):
    """Base of the per-cloud components: a pool's infrastructure and what Prefect needs of it.

    A component is made from its args (`EcsPushPool(name, args)`: checked here, naming each
    bad argument, before anything is declared) or from a pool of an already validated stack
    config (`EcsPushPool.from_config(pool, labels)`: what the stack program does, with no
    second validation). Both build the same resources in `_declare`.
    """

    RESOURCE_TYPE = ""
    """The component's type token, part of every child's URN: never changes."""
    CLOUD = Cloud.GCP
    """The pool kind (its row in the registry)."""

    work_pool_name: pulumi.Output[str]
    """The work pool's name in Prefect (the component's name)."""
    work_pool_type: pulumi.Output[str]
    """The work pool's type in Prefect, e.g. `cloud-run:push`."""
    credentials_block: pulumi.Output[CredentialsBlockPayload] | None
    """The credentials block to register, with its data; a secret. Absent for Prefect Managed."""
    template_defaults: pulumi.Output[dict[str, Any]]
    """Base-job-template defaults that point the pool at this infrastructure (without the
    credentials reference, which exists only once the block is registered)."""
    image_namespace: pulumi.Output[str] | None
    """Where to push flow images; absent when the pool's cloud hosts no registry."""
    image_reference: pulumi.Output[str] | None
    """What a deployment's `image` looks like in that registry, with placeholders."""

    def __init__(self, name: str, args: Any, opts: pulumi.ResourceOptions | None = None) -> None:
        # Checked before the component itself is registered: bad args declare nothing.
        kind = KIND_OF_CLOUD[self.CLOUD]
        self._build(validate_args(kind, type(self).__name__, name, args), opts)

    @classmethod
    def from_config(
        cls,
        pool: PoolConfig,
        labels: Mapping[str, str] | None = None,
        secrets: Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> Self:
        """The component of a pool of a validated stack config, and the stack's labels.
        `secrets`: the kind's secret args (Modal's token), as Pulumi secrets."""
        if pool.kind.cloud is not cls.CLOUD:
            raise TypeError(f"{cls.__name__} cannot build a {pool.type.value} pool")
        component = cls.__new__(cls)
        component._build(PoolArgs(pool, dict(labels or {}), {}, dict(secrets or {})), opts)
        return component

    def _build(self, args: PoolArgs, opts: pulumi.ResourceOptions | None) -> None:
        self._pool = args.pool
        self._labels = args.labels
        self._args = args
        type_token = self.RESOURCE_TYPE
        if _SERVED.get():
            # The host serves the package's tokens (`pushpools:index:<Class>`): the URN
            # of a component made from another language matches its schema. Python
            # programs keep the per-cloud tokens their stacks already record.
            type_token = f"{PACKAGE}:index:{type(self).__name__}"
        super().__init__(type_token, self._pool.name, {}, opts)
        self.block_to_register: CredentialsBlock | None = None
        """The block for the Prefect registration (plain Python; None: the pool needs none)."""
        self.grants: list[pulumi.Resource] = []
        """Every grant of the pool (bindings, attachments, role assignments, capacity
        providers): its Prefect objects wait for all of them, so that a failed grant stops
        registration and Prefect never points at an identity that cannot act yet."""
        self._declare()

    def _declare(self) -> None:
        """Declare the pool's resources, then `_finish`."""
        raise NotImplementedError

    @property
    def pool_name(self) -> str:
        return self._pool.name

    @property
    def pool_type(self) -> PoolType:
        return self._pool.type

    @property
    def pool_config(self) -> PoolConfig:
        """The validated settings (an Output-valued arg holds a stand-in here: `_value`
        gives the real one)."""
        return self._pool

    def _value(self, *path: str) -> Any:
        """A setting of the pool's section: the Output it was given as an arg, or its
        validated value."""
        if path in self._args.outputs:
            return self._args.outputs[path]
        value: Any = getattr(self._pool, self._pool.kind.cloud.value)
        for part in path:
            value = getattr(value, part)
        return value

    def _secret(self, arg: str) -> pulumi.Output[Any]:
        """A secret arg (Modal's token), always a Pulumi secret."""
        return pulumi.Output.secret(self._args.secrets[arg])

    def _granted(self, grant: ResourceT) -> ResourceT:
        """Record a grant the pool's Prefect objects must wait for."""
        self.grants.append(grant)
        return grant

    def _cloud_settings(self, settings_type: type[SettingsT]) -> SettingsT:
        """The pool's section for its cloud (the args' validation guarantees it is there)."""
        section = getattr(self._pool, self._pool.kind.cloud.value, None)
        if not isinstance(section, settings_type):
            raise TypeError(f"pool {self._pool.name!r} has no {settings_type.__name__}")
        return section

    def _finish(
        self,
        *,
        credentials_data: pulumi.Input[dict[str, Any]] | None,
        template_defaults: pulumi.Input[dict[str, Any]],
        image_namespace: pulumi.Input[str] | None,
        one_image_per_repository: bool = False,
        outputs: dict[str, Any] | None = None,
    ) -> None:
        """Publish what Prefect needs; `credentials_data` becomes the block's (secret) data.

        `one_image_per_repository`: the namespace is a single image's repository (ECR),
        tagged directly, rather than a registry path that holds many images. `outputs`: the
        component's own outputs (its identities), by schema name.
        """
        pool = self._pool
        kind = pool.kind
        self.block_to_register = None
        self.credentials_block = None
        if credentials_data is not None:
            if pool.block_name is None or kind.credentials_variable is None:
                raise TypeError(f"pool type {pool.type.value} takes no credentials block")
            self.block_to_register = CredentialsBlock(
                type_slug=str(kind.block_type_slug),
                name=pool.block_name,
                data=pulumi.Output.secret(credentials_data),
                template_variable=kind.credentials_variable,
            )
            block = self.block_to_register
            self.credentials_block = pulumi.Output.secret(
                block.data.apply(
                    lambda data: CredentialsBlockPayload(
                        type_slug=block.type_slug,
                        name=block.name,
                        data=data,
                        template_variable=block.template_variable,
                    )
                )
            )
        self.work_pool_name = pulumi.Output.from_input(pool.name)
        self.work_pool_type = pulumi.Output.from_input(pool.type.value)
        self.template_defaults = pulumi.Output.from_input(template_defaults)
        self.image_namespace = (
            None if image_namespace is None else pulumi.Output.from_input(image_namespace)
        )
        pattern = "{}:<tag>" if one_image_per_repository else "{}/<image>:<tag>"
        self.image_reference = (
            None if self.image_namespace is None else self.image_namespace.apply(pattern.format)
        )
        self.register_outputs(
            {
                "workPoolName": self.work_pool_name,
                "workPoolType": self.work_pool_type,
                "credentialsBlock": self.credentials_block,
                "templateDefaults": self.template_defaults,
                "imageNamespace": self.image_namespace,
                "imageReference": self.image_reference,
                **(outputs or {}),
            }
        )
