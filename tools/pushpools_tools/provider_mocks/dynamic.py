"""What pushpools' Prefect resources (Pulumi dynamic providers) return, offline.

The offline engine never runs the providers and never contacts Prefect: it records the
resources and answers with deterministic stand-ins shaped like the providers' outputs. The
data of a block is never echoed: like the real provider, only its salted hash is.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

# Each mock imports its provider's module when a stack declares such a resource: a stack
# that registers nothing in Prefect never loads the Prefect providers.

# Fixed, so that plans of the same stack are identical from run to run.
_NAMESPACE = uuid.UUID("1b5c2c41-7f0e-4c83-9b1f-3d5a0e6f2a10")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _block(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    from pushpools.components.prefect.blocks import COMPUTED as BLOCK_COMPUTED
    from pushpools.components.prefect.blocks import block_id, data_hash

    i = args.inputs
    document_id = _uuid(i["api_url"], "block", i["type_slug"], i["name"])
    outputs = {k: v for k, v in i.items() if k != "data" and k not in BLOCK_COMPUTED}
    return block_id(i["type_slug"], i["name"]), {
        **outputs,
        "block_document_id": document_id,
        "block_type_id": _uuid(i["api_url"], "block-type", i["type_slug"]),
        "block_schema_id": _uuid(i["api_url"], "block-schema", i["type_slug"]),
        "block_schema_checksum": "sha256:" + _uuid(i["type_slug"]).replace("-", ""),
        "block_schema_version": "offline",
        "data_hash": data_hash(document_id, i["data"]),
    }


def _work_pool(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    from pushpools.components.prefect.templates import TemplateError, render_template
    from pushpools.components.prefect.work_pools import COMPUTED as POOL_COMPUTED

    i = args.inputs
    outputs = {k: v for k, v in i.items() if k not in POOL_COMPUTED}
    template = None
    if i.get("base_template"):
        # The user's own template is known offline: render and check it as the provider would.
        try:
            template = render_template(
                i["base_template"],
                i.get("templateDefaults", i.get("template_defaults")) or {},
                i.get("credentials_variable"),
                i.get("block_document_id"),
                pins=i.get("template_pins"),
                pinned_defaults=i.get("template_pinned_defaults") or (),
                bounds=i.get("template_bounds"),
            )
        except TemplateError as error:
            raise ValueError(f"work pool {i['name']!r}: {error}") from None
    return i["name"], {
        **outputs,
        "pool_id": _uuid(i["api_url"], "work-pool", i["name"]),
        # The default template is served by the connected Prefect: unknown offline.
        "base_job_template": template,
        "template_base": i.get("base_template"),
    }


def _work_queue(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    from pushpools.components.prefect.work_queues import COMPUTED as QUEUE_COMPUTED
    from pushpools.components.prefect.work_queues import queue_resource_id

    i = args.inputs
    outputs = {k: v for k, v in i.items() if k not in QUEUE_COMPUTED}
    return queue_resource_id(i["work_pool_name"], i["name"]), {
        **outputs,
        "queue_id": _uuid(i["api_url"], "work-queue", i["work_pool_name"], i["name"]),
        # What the queue will hold once Prefect has it: what was asked; unset: Prefect's.
        **{f"live_{k}": i.get(k) for k in ("description", "priority", "concurrency_limit")},
        "live_paused": bool(i.get("paused")),
    }


def _pause(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    # Offline, nothing waits: the pause is recorded, with what it waits after.
    return str(args.inputs["after"]), dict(args.inputs)


def _rotation(args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
    from pushpools.components import clock
    from pushpools.components.rotation import stamped

    # What the provider's check stamps, as if the rotation were created today (offline,
    # there is no state with a running period).
    outputs = stamped({}, dict(args.inputs), clock.today_utc())
    return outputs["started_on"], outputs


RESOURCES = {
    "pulumi-python:dynamic/pushpools:Pause": _pause,
    "pulumi-python:dynamic/pushpools:Rotation": _rotation,
    "pulumi-python:dynamic/prefect:Block": _block,
    "pulumi-python:dynamic/prefect:WorkPool": _work_pool,
    "pulumi-python:dynamic/prefect:WorkQueue": _work_queue,
}

CALLS: dict[str, Any] = {}
