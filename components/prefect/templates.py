"""Base job templates: the connected Prefect's default for a pool type (or the user's own
template), our defaults laid over it, every default checked against the template's own
variables schema before anything is sent.

The result is a pure function of its inputs: same template, same defaults, same block ->
the same JSON, so an unchanged stack never rewrites a pool.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from pushpools.components.config.api_key_secret import SECRET_STORE_VARIABLES
from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.connection import (
    Connection,
    display_url,
    is_cloud_only_type,
    push_needs_cloud_message,
)

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient


class TemplateError(ValueError):
    """A template or a default does not fit; the message names the variable."""


def block_reference(block_document_id: str) -> dict[str, Any]:
    """How a template variable points at a block; Prefect resolves it when a run starts."""
    return {"$ref": {"block_document_id": block_document_id}}


def fetch_default_template(
    client: SyncPrefectClient, connection: Connection, pool_type: str
) -> dict[str, Any]:
    """The default base job template the connected Prefect serves for `pool_type`.

    Prefect Cloud serves the push (and managed) types; a self-hosted server serves the
    worker types of the integrations it ships with.
    """
    if is_cloud_only_type(pool_type) and not connection.is_cloud:
        raise PrefectError(push_needs_cloud_message(pool_type, connection.api_url))
    offered = _offered_types(client, connection)
    if pool_type not in offered or not offered[pool_type].get("default_base_job_configuration"):
        raise PrefectError(
            f"Prefect at {display_url(connection.api_url)} offers no default base job "
            f"template for pool type {pool_type!r} (it offers: {', '.join(sorted(offered))}); "
            "give the pool a template file (pushpools:pools[].prefect.base_job_template_file)"
        )
    return copy.deepcopy(offered[pool_type]["default_base_job_configuration"])


def _offered_types(client: SyncPrefectClient, connection: Connection) -> dict[str, Any]:
    """Pool type -> its metadata, as the connected Prefect serves them; fetched once per
    endpoint and process (a `pulumi up` creating 50 pools asks once, not 50 times)."""
    with _OFFERED_LOCK:
        if connection.api_url in _OFFERED:
            return _OFFERED[connection.api_url]
    if connection.is_cloud:
        response = cast(Any, client).request("GET", "collections/work_pool_types")
    else:
        response = client.request(
            "GET", "/collections/views/{view}", path_params={"view": "aggregate-worker-metadata"}
        )
    offered: dict[str, Any] = {}
    for collection in response.json().values():
        for worker in collection.values():
            if isinstance(worker, dict) and worker.get("type"):
                offered[worker["type"]] = worker
    with _OFFERED_LOCK:
        _OFFERED[connection.api_url] = offered
    return offered


# The provider process serves several resources at once, from threads.
_OFFERED: dict[str, dict[str, Any]] = {}
_OFFERED_LOCK = threading.Lock()


def render_template(
    base: Mapping[str, Any],
    defaults: Mapping[str, Any],
    credentials_variable: str | None = None,
    block_document_id: str | None = None,
    *,
    pins: Mapping[str, Any] | None = None,
    pinned_defaults: Sequence[str] = (),
    bounds: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """`base` with each default set on its variable, the block reference wired in, and the
    platform team's interface enforced:

    - `bounds` (`enum`, `minimum`, `maximum`, `pattern`) are written into the variables'
      JSON schemas, which Prefect validates every deployment's job variables against;
    - `pins` (and `pinned_defaults`: variables pinned to the default `defaults` gives them)
      are written into `job_configuration` in place of their `{{ variable }}` placeholders,
      and the variables are removed and refused by name (`propertyNames`), so a deployment
      that sets one is refused by Prefect instead of being silently ignored.
    """
    check_template_shape(base)
    template = copy.deepcopy(dict(base))
    variables = template["variables"]
    properties: dict[str, Any] = variables["properties"]
    pins = {**{n: defaults[n] for n in pinned_defaults if n in defaults}, **(pins or {})}
    bounds = bounds or {}
    _check_names(properties, defaults, pins, pinned_defaults, bounds, credentials_variable)
    for name in sorted(bounds):
        properties[name].update(copy.deepcopy(dict(bounds[name])))
    for name in sorted(defaults):
        if name in pins:
            continue  # the variable is removed below; its value is the pin
        _check_default(variables, name, defaults[name])
        properties[name]["default"] = copy.deepcopy(defaults[name])
    if credentials_variable is not None and block_document_id is not None:
        # Not checked here: the server resolves the reference itself when it creates
        # the pool, and the providers check the block exists before a PATCH.
        properties[credentials_variable]["default"] = block_reference(block_document_id)
    if pins:
        _pin(template, pins)
    return template


def _check_names(
    properties: Mapping[str, Any],
    defaults: Mapping[str, Any],
    pins: Mapping[str, Any],
    pinned_defaults: Sequence[str],
    bounds: Mapping[str, Any],
    credentials_variable: str | None,
) -> None:
    """Every variable named must be one the template declares; every problem at once."""
    declared = ", ".join(sorted(properties))
    problems = [
        f"the base job template has no variable {name!r} to {what}"
        for what, names in (
            ("set a default on", defaults),
            ("pin", {*pins, *pinned_defaults}),
            ("bound", bounds),
        )
        for name in sorted(names)
        if name not in properties
    ]
    problems += [
        f"{name!r} points the flow runs at the Prefect API key in the secret store, which "
        "this template's worker would never read: give the pool a template that declares "
        "it (prefect.base_job_template_file, e.g. the worker's own default template)"
        for name in sorted(defaults)
        if name in SECRET_STORE_VARIABLES and name not in properties
    ]
    problems += [
        f"pushpools sets no default for {name!r} on this pool to pin; pin a value instead"
        for name in pinned_defaults
        if name not in defaults and name in properties
    ]
    if credentials_variable is not None and credentials_variable not in properties:
        problems.append(
            f"the base job template has no variable {credentials_variable!r} for the "
            "credentials block"
        )
    elif credentials_variable in pins:
        problems.append(
            f"{credentials_variable!r} holds the credentials block reference, which "
            "Prefect resolves from the variable's default: it cannot be pinned"
        )
    if problems:
        raise TemplateError("; ".join(problems) + f"; its variables: {declared}")


def _pin(template: dict[str, Any], pins: Mapping[str, Any]) -> None:
    from prefect.utilities.templating import apply_values

    variables = template["variables"]
    for name in sorted(pins):
        _check_default(variables, name, pins[name], what="pinned value")
    template["job_configuration"] = apply_values(
        template["job_configuration"], dict(pins), remove_notset=False
    )
    for name in pins:
        del variables["properties"][name]
    if "required" in variables:
        variables["required"] = [r for r in variables["required"] if r not in pins]
    variables["propertyNames"] = {"not": {"enum": sorted(pins)}}


def check_template_shape(template: Any) -> None:
    """A base job template is {job_configuration: {...}, variables: {properties: {...}}}."""
    if not isinstance(template, Mapping):
        raise TemplateError("a base job template must be an object")
    missing = [k for k in ("job_configuration", "variables") if k not in template]
    if missing:
        raise TemplateError(
            f"a base job template needs the keys job_configuration and variables; "
            f"missing: {', '.join(missing)}"
        )
    variables = template["variables"]
    if not isinstance(variables, Mapping) or not isinstance(variables.get("properties"), Mapping):
        raise TemplateError("the template's variables must be a JSON schema object with properties")


def _check_default(
    variables: Mapping[str, Any], name: str, value: Any, what: str = "default"
) -> None:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import best_match

    # The variable's schema, with the definitions its $refs point into.
    schema = dict(variables["properties"][name])
    for key in ("definitions", "$defs"):
        if key in variables:
            schema[key] = variables[key]
    error = best_match(Draft7Validator(schema).iter_errors(value))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path)
        raise TemplateError(
            f"{what} {value!r} for the template variable {name!r}{where} does not fit the "
            f"template's schema: {error.message}"
        )
