"""A Prefect work pool as a Pulumi resource, its base job template fully wired.

Lifecycle, as the provider implements it:

- create: start from the pool type's default template as the connected Prefect serves it
  (or the user's own template), set our defaults and the credentials block reference on
  its variables, check each default against the template's schema, create the pool. A
  pool of the same name already there is an error that says how to adopt it, unless
  `adopt_existing` is set: then it is taken over (same type only) and updated.
- diff: replace when the name, the type or the Prefect endpoint changes; update when any
  other input changes; otherwise read the live pool and report drift (deleted, or changed
  in the UI) as an update. Reads only: no change, no write.
- update: recreate a pool deleted out of band; PATCH only the fields that differ.
- read (refresh): the live pool, or gone.
- delete: delete the pool, unless the pool of that name is no longer the one we created.

The starting template is pinned in state when the pool is created (`template_base`): the
same inputs always render the same template, and a newer Prefect default never rewrites a
pool behind its owner's back. Changing where the template comes from (a file, or back to
the default) fetches it again.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from pushpools.components.prefect.client import PrefectError, call_prefect
from pushpools.components.prefect.common import (
    ConnectionArgs,
    connection_outputs,
    credentials_changed,
    endpoint_changed,
    engine_values,
    has_unknowns,
    prefect_object_options,
)
from pushpools.components.prefect.connection import (
    Connection,
    display_url,
    is_cloud_only_type,
    push_needs_cloud_message,
)
from pushpools.components.prefect.templates import (
    TemplateError,
    fetch_default_template,
    render_template,
)

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import WorkPool

INPUTS = (
    "name",
    "type",
    "description",
    "concurrency_limit",
    "paused",
    "template_defaults",
    "credentials_variable",
    "block_document_id",
    "base_template",
    "adopt_existing",
)
# The platform team's enforced interface; in the props only when set, so that pools
# without one keep the inputs they were recorded with.
INTERFACE = ("template_pins", "template_pinned_defaults", "template_bounds")
COMPUTED = ("pool_id", "base_job_template", "template_base")
# Inputs whose change is a new object: Prefect cannot rename a pool or change its type.
REPLACING = ("name", "type")


class WorkPoolProvider(ResourceProvider):
    """Create, read, diff, update and delete one work pool."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        outs = call_prefect(connection, lambda client: _create(client, connection, props))
        return CreateResult(props["name"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = engine_values(props)
        connection = Connection.from_props(props)
        live = call_prefect(connection, lambda client: _read_ours(client, props))
        if live is None:
            return ReadResult(None, {})  # gone: refresh drops it from state
        return ReadResult(id_, {**_public(props), **_observed(live, props["template_base"])})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        olds, news = engine_values(olds), engine_values(news)
        replaces = [k for k in REPLACING if olds.get(k) != news.get(k)]
        if endpoint_changed(olds, news):
            replaces.append("api_url")
        if replaces:
            # Same name at the same place: the old one must go first (names are unique).
            return DiffResult(
                changes=True, replaces=replaces, delete_before_replace="name" not in replaces
            )
        if has_unknowns({k: news.get(k) for k in INPUTS + INTERFACE}) or credentials_changed(
            olds, news
        ):
            return DiffResult(changes=True)
        if olds.get("base_template") != news.get("base_template") or not olds.get("template_base"):
            return DiffResult(changes=True)  # the template comes from elsewhere now
        desired = _desired(news, olds["template_base"])
        if _differences(desired, _observed_fields(olds)):
            return DiffResult(changes=True)
        # Inputs unchanged: is the pool in Prefect still the one we registered?
        connection = Connection.from_props(news)
        live = call_prefect(connection, lambda client: _read_ours(client, olds))
        return DiffResult(changes=live is None or bool(_differences(desired, _live_fields(live))))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, news = engine_values(olds), engine_values(news)
        connection = Connection.from_props(news)
        outs = call_prefect(connection, lambda client: _update(client, connection, olds, news))
        return UpdateResult(outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = engine_values(props)
        connection = Connection.from_props(props)
        call_prefect(connection, lambda client: _delete(client, props))


class PrefectWorkPool(Resource, module="prefect", name="WorkPool"):
    """A Prefect work pool whose base job template points at its infrastructure."""

    pool_id: pulumi.Output[str]
    base_job_template: pulumi.Output[dict[str, Any]]
    """The template as registered (or as last read back from Prefect)."""

    def __init__(
        self,
        resource_name: str,
        *,
        connection: ConnectionArgs,
        name: str,
        type: str,
        template_defaults: pulumi.Input[dict[str, Any]],
        description: str | None = None,
        concurrency_limit: int | None = None,
        paused: bool = False,
        credentials_variable: str | None = None,
        block_document_id: pulumi.Input[str] | None = None,
        base_template: dict[str, Any] | None = None,
        adopt_existing: bool = False,
        pins: dict[str, Any] | None = None,
        pinned_defaults: list[str] | None = None,
        bounds: dict[str, dict[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`template_defaults` become the defaults of the template's variables;
        `credentials_variable` gets a `$ref` to `block_document_id`. `base_template`
        replaces the default template the connected Prefect serves for `type`.

        `pins` fix variables' values in the job configuration (`pinned_defaults`: to their
        value in `template_defaults`) and remove them from what deployments may set;
        `bounds` add `enum`/`minimum`/`maximum`/`pattern` to variables' schemas."""
        props: dict[str, Any] = {
            **connection.as_props(),
            "name": name,
            "type": type,
            "description": description,
            "concurrency_limit": concurrency_limit,
            "paused": paused,
            "template_defaults": template_defaults,
            "credentials_variable": credentials_variable,
            "block_document_id": block_document_id,
            "base_template": base_template,
            "adopt_existing": adopt_existing,
            **{
                key: value
                for key, value in zip(INTERFACE, (pins, pinned_defaults, bounds), strict=True)
                if value
            },
            **dict.fromkeys(COMPUTED),
        }
        super().__init__(WorkPoolProvider(), resource_name, props, prefect_object_options(opts))


def _create(
    client: SyncPrefectClient, connection: Connection, props: dict[str, Any]
) -> dict[str, Any]:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    name, pool_type = props["name"], props["type"]
    if is_cloud_only_type(pool_type) and not connection.is_cloud:
        raise PrefectError(push_needs_cloud_message(pool_type, connection.api_url))
    base = props.get("base_template") or fetch_default_template(client, connection, pool_type)
    desired = _desired(props, base)
    try:
        pool = client.create_work_pool(
            WorkPoolCreate(
                name=name,
                type=pool_type,
                description=desired["description"],
                base_job_template=desired["base_job_template"],
                is_paused=desired["paused"],
                concurrency_limit=desired["concurrency_limit"],
            )
        )
    except ObjectAlreadyExists:
        if not props.get("adopt_existing"):
            raise PrefectError(
                f"a work pool named {name!r} already exists in Prefect at "
                f"{display_url(connection.api_url)}, and pushpools does not take over objects "
                "it did not create unless told to. To manage it from now on (its settings "
                "and template are replaced with this stack's; `pulumi destroy` deletes it), "
                "set `adopt_existing: true` in the pool's `prefect` section "
                "(pushpools:pools[].prefect.adopt_existing); or give the pool another name",
                409,
            ) from None
        pool = client.read_work_pool(name)
        if pool.type != pool_type:
            raise PrefectError(
                f"the work pool {name!r} to adopt at {display_url(connection.api_url)} has "
                f"type {pool.type!r}, not {pool_type!r}, and Prefect cannot change a pool's "
                "type: delete it in Prefect, or give this pool another name",
                409,
            ) from None
        pool = _patch(client, pool, desired)
    return {**_public(props), **_observed(pool, base)}


def _update(
    client: SyncPrefectClient,
    connection: Connection,
    olds: dict[str, Any],
    news: dict[str, Any],
) -> dict[str, Any]:
    live = _read_ours(client, olds)
    if live is None:  # deleted out of band (or replaced by someone else's): put ours back
        return _create(client, connection, news)
    if news.get("base_template"):
        base = news["base_template"]
    elif olds.get("base_template"):  # from a file back to the default: fetch it now
        base = fetch_default_template(client, connection, news["type"])
    else:
        base = olds["template_base"]
    desired = _desired(news, base)
    if news.get("block_document_id") and news.get("block_document_id") != olds.get(
        "block_document_id"
    ):
        # Prefect checks a template's block reference when it creates a pool, not on PATCH.
        _require_block(client, connection, news["block_document_id"])
    return {**_public(news), **_observed(_patch(client, live, desired), base)}


def _patch(client: SyncPrefectClient, live: WorkPool, desired: dict[str, Any]) -> WorkPool:
    """Send only the fields that differ; nothing at all when none does."""
    from prefect.client.schemas.actions import WorkPoolUpdate

    changed = _differences(desired, _live_fields(live))
    if not changed:
        return live
    fields = {_API_FIELDS[k]: desired[k] for k in changed}
    client.update_work_pool(live.name, WorkPoolUpdate(**fields))
    return client.read_work_pool(live.name)


# Our field names -> the API's.
_API_FIELDS = {
    "description": "description",
    "concurrency_limit": "concurrency_limit",
    "paused": "is_paused",
    "base_job_template": "base_job_template",
}


def _desired(props: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    try:
        template = render_template(
            base,
            props.get("template_defaults") or {},
            props.get("credentials_variable"),
            props.get("block_document_id"),
            pins=props.get("template_pins"),
            pinned_defaults=props.get("template_pinned_defaults") or (),
            bounds=props.get("template_bounds"),
        )
    except TemplateError as error:
        raise PrefectError(
            f"work pool {props.get('name')!r} (type {props.get('type')!r}): {error}"
        ) from None
    return {
        "description": props.get("description"),
        "concurrency_limit": props.get("concurrency_limit"),
        "paused": bool(props.get("paused")),
        "base_job_template": template,
    }


def _differences(desired: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    return [k for k in _API_FIELDS if desired[k] != actual.get(k)]


def _live_fields(pool: WorkPool) -> dict[str, Any]:
    return {
        "description": pool.description,
        "concurrency_limit": pool.concurrency_limit,
        "paused": bool(pool.is_paused),
        "base_job_template": pool.base_job_template,
    }


def _observed_fields(outs: dict[str, Any]) -> dict[str, Any]:
    return {k: outs.get(k) for k in _API_FIELDS}


def _read_ours(client: SyncPrefectClient, props: dict[str, Any]) -> WorkPool | None:
    """The live pool of our name, if it is still the one we created (same ID)."""
    from prefect.exceptions import ObjectNotFound

    try:
        pool = client.read_work_pool(props["name"])
    except ObjectNotFound:
        return None
    if props.get("pool_id") and str(pool.id) != props["pool_id"]:
        return None
    return pool


def _require_block(client: SyncPrefectClient, connection: Connection, block_id: str) -> None:
    from prefect.exceptions import ObjectNotFound

    try:
        client.read_block_document(UUID(block_id), include_secrets=False)
    except ObjectNotFound:
        raise PrefectError(
            f"the credentials block {block_id} the template should reference does not exist "
            f"in Prefect at {display_url(connection.api_url)}",
            404,
        ) from None


def _delete(client: SyncPrefectClient, props: dict[str, Any]) -> None:
    from prefect.exceptions import ObjectNotFound

    # A pool of this name that is not ours (recreated by someone else) is left alone.
    if _read_ours(client, props) is None:
        return
    with contextlib.suppress(ObjectNotFound):  # gone meanwhile: the goal of a delete
        client.delete_work_pool(props["name"])


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {
        **connection_outputs(props),
        **{k: props.get(k) for k in INPUTS},
        **{k: props[k] for k in INTERFACE if props.get(k)},
    }


def _observed(pool: WorkPool, template_base: dict[str, Any]) -> dict[str, Any]:
    """What state records of a live pool, with its fields as Prefect holds them."""
    return {
        **_live_fields(pool),
        "pool_id": str(pool.id),
        "template_base": template_base,
    }
