"""A pool's Prefect objects (credentials block and work pool) as a component of its own.

Put it next to any pushpools pool component (`pool=`), or next to infrastructure a program
made itself (`work_pool_type=`, `template_defaults=`, `credentials_block=`). It declares the
same resources, through the same code, as the stack program's registration.

Python programs only: its resources are Pulumi dynamic providers, which do not work inside
components served to other languages (pulumi/pulumi#5455).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pydantic import ValidationError

from pushpools.components.config import PoolType
from pushpools.components.config.errors import a_or_an, describe_validation_error
from pushpools.components.config.pool_types import POOL_KINDS
from pushpools.components.config.prefect import PoolPrefectSettings
from pushpools.components.config.stack import PoolConfig
from pushpools.components.pool_args import ComponentArgsError, is_output
from pushpools.components.pool_component import CredentialsBlock, PoolComponent
from pushpools.components.prefect.common import ConnectionArgs
from pushpools.components.prefect.connection import (
    is_cloud_only_type,
    is_prefect_cloud_url,
    normalize_api_url,
    push_needs_cloud_message,
    url_problem,
)
from pushpools.components.prefect.templates import TemplateError, check_template_shape
from pushpools.components.prefect.wiring import declare_prefect_objects, register_pool

_OWN_INFRASTRUCTURE_ARGS = ("work_pool_type", "template_defaults", "credentials_block")


class CredentialsBlockArgs(TypedDict):
    """A credentials block for a pool whose infrastructure the program made itself."""

    type_slug: str
    """The block type, e.g. `gcp-credentials`, `aws-credentials`."""
    name: str
    """The block document's name."""
    data: pulumi.Input[dict[str, Any]]
    """The block's data; it is made a Pulumi secret."""
    template_variable: str
    """The base-job-template variable that references the block, e.g. `credentials`."""


class PoolRegistrationArgs(TypedDict):
    """Where and what to register. Give `pool`, or the three args of your own
    infrastructure (`work_pool_type`, `template_defaults`, `credentials_block`)."""

    api_url: pulumi.Input[str]
    """Prefect API URL (a Prefect Cloud workspace or a self-hosted server)."""
    api_key: NotRequired[pulumi.Input[str]]
    """Prefect Cloud API key; kept a secret."""
    auth_string: NotRequired[pulumi.Input[str]]
    """`user:password` of a self-hosted server; kept a secret."""
    pool: NotRequired[PoolComponent]
    """A pushpools pool component: its type, block and template defaults are registered."""
    work_pool_type: NotRequired[PoolType]
    """The work pool's type, for infrastructure made without a pool component."""
    template_defaults: NotRequired[pulumi.Input[dict[str, Any]]]
    """Base-job-template defaults, for infrastructure made without a pool component."""
    credentials_block: NotRequired[CredentialsBlockArgs]
    """The credentials block, for infrastructure made without a pool component."""
    description: NotRequired[str]
    """The work pool's description."""
    concurrency_limit: NotRequired[int]
    """Most flow runs at once in the pool; default: no limit."""
    paused: NotRequired[bool]
    """Register the pool paused; default false."""
    base_job_template: NotRequired[dict[str, Any]]
    """A base job template to start from instead of the one the connected Prefect serves."""
    adopt_existing: NotRequired[bool]
    """Take over a block or work pool of the same name already in Prefect; default false."""
    work_queues: NotRequired[list[dict[str, Any]]]
    """The pool's work queues, each {name, priority, concurrency_limit, description,
    paused}; `default` manages the pool's own queue."""
    job_variables: NotRequired[dict[str, Any]]
    """The interface deployments get: {pin, pin_defaults, bound, default}."""


class PoolRegistration(pulumi.ComponentResource):
    """One work pool (and its credentials block) in Prefect; the component's name is the
    work pool's name."""

    work_pool_id: pulumi.Output[str]
    """The work pool's ID in Prefect."""
    block_document_id: pulumi.Output[str] | None
    """The credentials block's ID in Prefect; None for pools without a block."""

    def __init__(
        self,
        name: str,
        args: PoolRegistrationArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        pool_type, block, template_defaults = _what_to_register(name, args)
        super().__init__("pushpools:prefect:PoolRegistration", name, {}, opts)
        api_url = args["api_url"]
        connection = ConnectionArgs(
            api_url=normalize_api_url(api_url) if isinstance(api_url, str) else api_url,
            api_key=args.get("api_key"),
            auth_string=args.get("auth_string"),
        )
        settings: dict[str, Any] = {
            "description": args.get("description"),
            "concurrency_limit": args.get("concurrency_limit"),
            "paused": args.get("paused", False),
            "base_template": args.get("base_job_template"),
            "adopt_existing": args.get("adopt_existing", False),
            **_queues_and_interface(args),
        }
        pool = args.get("pool")
        if isinstance(pool, PoolComponent):
            # The stack program's path: after every grant of the pool.
            registered = register_pool(pool, connection=connection, parent=self, **settings)
        else:
            registered = declare_prefect_objects(
                work_pool_name=name,
                work_pool_type=pool_type,
                block=block,
                template_defaults=template_defaults,
                connection=connection,
                parent=self,
                **settings,
            )
        self.work_pool_id = registered.work_pool.pool_id
        self.block_document_id = (
            None if registered.block is None else registered.block.block_document_id
        )
        self.register_outputs(
            {"workPoolId": self.work_pool_id, "blockDocumentId": self.block_document_id}
        )


def _what_to_register(
    name: str, args: Mapping[str, Any]
) -> tuple[str, CredentialsBlock | None, pulumi.Input[dict[str, Any]]]:
    """(pool type, block, template defaults), or ComponentArgsError naming each bad arg."""
    problems = _problems(name, args)
    pool = args.get("pool")
    if isinstance(pool, PoolComponent) and not problems:
        return pool.pool_type.value, pool.block_to_register, pool.template_defaults
    if problems:
        raise ComponentArgsError(f"PoolRegistration {name!r}", problems)
    block_args = args.get("credentials_block")
    block = None
    if block_args is not None:
        block = CredentialsBlock(
            type_slug=block_args["type_slug"],
            name=block_args["name"],
            data=pulumi.Output.secret(block_args["data"]),
            template_variable=block_args["template_variable"],
        )
    return PoolType(args["work_pool_type"]).value, block, args["template_defaults"]


def _problems(name: str, args: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    allowed = sorted(PoolRegistrationArgs.__annotations__)
    problems += [
        f"args.{arg}: unknown argument; allowed: {', '.join(allowed)}"
        for arg in args
        if arg not in PoolRegistrationArgs.__annotations__
    ]
    name_problem = _pool_name_problem(name)
    if name_problem:
        problems.append(f"name: {name_problem}")
    pool = args.get("pool")
    own = [arg for arg in _OWN_INFRASTRUCTURE_ARGS if arg in args]
    pool_type: str | None = None
    if pool is not None:
        if not isinstance(pool, PoolComponent):
            problems.append(
                f"args.pool: {type(pool).__name__} is not allowed; give a pushpools pool "
                "component (CloudRunPushPool, EcsPushPool, AciPushPool, ModalPushPool, "
                "ManagedPool)"
            )
        else:
            pool_type = pool.pool_type.value
        if own:
            problems.append(
                f"args: give either pool, or {', '.join(_OWN_INFRASTRUCTURE_ARGS)}; not both "
                f"(got pool and {', '.join(own)})"
            )
    else:
        for arg in ("work_pool_type", "template_defaults"):
            if arg not in args:
                problems.append(f"args.{arg}: required without args.pool, but not set")
        if "work_pool_type" in args:
            try:
                pool_type = PoolType(args["work_pool_type"]).value
            except ValueError:
                allowed_types = ", ".join(t.value for t in PoolType)
                problems.append(
                    f"args.work_pool_type: {args['work_pool_type']!r} is not a pool type; "
                    f"allowed: {allowed_types}"
                )
        problems += _block_problems(args.get("credentials_block"))
        if pool_type is not None:
            problems += _block_fits_the_type(args.get("credentials_block"), pool_type)
    api_url = args.get("api_url")
    if api_url is None:
        problems.append("args.api_url: required, but not set")
    elif not is_output(api_url):
        url = normalize_api_url(str(api_url))
        problem = url_problem(url)
        if problem:
            problems.append(f"args.api_url: {problem}")
        elif (
            pool_type is not None
            and is_cloud_only_type(pool_type)
            and not is_prefect_cloud_url(url)
        ):
            problems.append(f"args.api_url: {push_needs_cloud_message(pool_type, url)}")
        elif is_prefect_cloud_url(url) and args.get("api_key") is None:
            problems.append("args.api_key: Prefect Cloud needs an API key, but none is set")
        elif is_prefect_cloud_url(url) and args.get("api_key") == "":
            problems.append("args.api_key: Prefect Cloud needs an API key, but it is empty")
    limit = args.get("concurrency_limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        problems.append(
            f"args.concurrency_limit: {limit!r} is not allowed; allowed: an integer >= 0"
        )
    # A truthy "no" must never turn adoption of existing Prefect objects on.
    problems += [
        f"args.{flag}: {args[flag]!r} is not allowed; allowed: True or False"
        for flag in ("paused", "adopt_existing")
        if flag in args and not isinstance(args[flag], bool)
    ]
    problems += _interface_problems(args)
    template = args.get("base_job_template")
    if template is not None:
        try:
            check_template_shape(template)
        except TemplateError as error:
            problems.append(f"args.base_job_template: {error}")
    return problems


def _queues_and_interface(args: Mapping[str, Any]) -> dict[str, Any]:
    """The `work_queues` and `job_variables` args as the stack config's models (checked
    by `_problems` already)."""
    settings = PoolPrefectSettings.model_validate(
        {k: args[k] for k in ("work_queues", "job_variables") if k in args}
    )
    return {"work_queues": settings.work_queues, "job_variables": settings.job_variables}


def _interface_problems(args: Mapping[str, Any]) -> list[str]:
    """The stack config's own checks of queues and job variables, named by argument."""
    given = {k: args[k] for k in ("work_queues", "job_variables") if k in args}
    try:
        PoolPrefectSettings.model_validate(given)
    except ValidationError as error:
        return [
            problem.replace("pushpools:", "args.", 1)
            for problem in describe_validation_error(error, PoolPrefectSettings)
        ]
    return []


def _block_fits_the_type(block: Any, pool_type: str) -> list[str]:
    """A block of another cloud's type would be registered, and every flow run would fail
    to find its credentials: the pool type decides the block type and variable."""
    if not isinstance(block, Mapping):
        return []
    kind = POOL_KINDS[PoolType(pool_type)]
    if kind.block_type_slug is None:
        return [
            f"args.credentials_block: {a_or_an(repr(pool_type))} pool takes no credentials "
            "block; remove it"
        ]
    problems = []
    if "type_slug" in block and block["type_slug"] != kind.block_type_slug:
        problems.append(
            f"args.credentials_block.type_slug: {block['type_slug']!r} is not allowed for "
            f"{a_or_an(repr(pool_type))} pool; allowed: {kind.block_type_slug!r}"
        )
    variable = block.get("template_variable")
    if variable is not None and variable != kind.credentials_variable:
        problems.append(
            f"args.credentials_block.template_variable: {variable!r} is not allowed for "
            f"{a_or_an(repr(pool_type))} pool; allowed: {kind.credentials_variable!r}"
        )
    return problems


def _block_problems(block: Any) -> list[str]:
    if block is None:
        return []
    if not isinstance(block, Mapping):
        return [f"args.credentials_block: {block!r} is not allowed; allowed: an object"]
    keys = CredentialsBlockArgs.__annotations__
    problems = [
        f"args.credentials_block.{key}: required, but not set" for key in keys if key not in block
    ]
    problems += [
        f"args.credentials_block.{key}: unknown key; allowed: {', '.join(sorted(keys))}"
        for key in block
        if key not in keys
    ]
    return problems


def _pool_name_problem(name: str) -> str | None:
    """The stack config's own rule for pool names (Prefect's, and safe in child names)."""
    try:
        PoolConfig.model_validate({"name": name, "type": PoolType.PREFECT_MANAGED.value})
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return str(first.get("ctx", {}).get("error", first["msg"]))
    return None
