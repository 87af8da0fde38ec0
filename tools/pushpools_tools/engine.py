"""An offline Pulumi engine: runs a stack program on the SDK's mock engine.

The offline plan and the tests share this one engine. It behaves like the real
engine wherever a lax mock would let a test pass falsely:

- outputs a provider schema marks secret (``additionalSecretOutputs``, such as a
  service-account key's ``privateKey``) come back secret, as the engine marks them;
- an output whose input of the same name was secret stays secret;
- a resource type or invoke that no provider mock knows is an error, not ``{}``;
- inputs are recorded under their wire (camelCase) names, as providers receive them;
- each resource's dependencies are recorded as the request carries them, so the plan
  knows the order `pulumi up` must create things in.
- two resources with one URN (type, name and parent) fail the run, as `pulumi up` fails.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from pushpools_tools.provider_mocks import ProviderMocks

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine saw it: its inputs and the outputs it got back."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    """Provider outputs; secret values are wrapped as the wire format wraps them."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource waits for, as the request names them (`dependsOn`, the
    resources its inputs' Outputs came from, an explicit provider), sorted; the parent
    is not among them."""
    protect: bool = False
    """Whether `pulumi destroy` refuses to delete it."""
    options: dict[str, Any] = field(default_factory=dict)
    """The resource options that decide what `pulumi up` does, where they are set: protect,
    delete_before_replace, replace_on_changes, ignore_changes, retain_on_delete,
    deleted_with, aliases, custom_timeouts, import_id."""


@dataclass
class ProgramRun:
    """What a program run declared: every resource and every stack output."""

    project: str
    stack: str
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs, resolved; secret ones wrapped with :func:`secret`."""
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def find(self, type_: str, name: str | None = None) -> list[Registration]:
        """The registered resources of a type token, optionally with one logical name."""
        return [r for r in self.resources if r.type == type_ and (name is None or r.name == name)]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = self.find(type_, name)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_} {name or ''}, found {len(found)}")
        return found[0]


def in_creation_order(resources: Sequence[Registration]) -> list[Registration]:
    """The resources in an order `pulumi up` could create them in, the same every run: each
    after everything it waits for, ties by URN (type, then name).

    The order the program registered them in depends on when each one's inputs resolved,
    which changes from run to run; a plan that a reviewer compares with another must not.
    """
    waits_for = {r.urn: r.dependencies for r in resources}
    depth: dict[str, int] = {}

    def depth_of(urn: str) -> int:
        if urn not in depth:
            depth[urn] = 1 + max(
                (depth_of(d) for d in waits_for[urn] if d in waits_for), default=-1
            )
        return depth[urn]

    return sorted(resources, key=lambda r: (depth_of(r.urn), r.urn))


def secret(value: Any) -> dict[str, Any]:
    """Wrap a value the way the wire format marks a secret."""
    return rpc.wrap_rpc_secret(value)


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def reveal(value: Any) -> Any:
    """Unwrap every secret marker in a value (for assertions on the payload itself)."""
    if is_secret(value):
        return reveal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


class DuplicateUrnError(Exception):
    """A program declared two resources with one URN, which the real engine refuses."""


class _AnswerAtOnce(concurrent.futures.ThreadPoolExecutor):
    """The run loop's default executor: runs each call on the calling thread, at once.

    The SDK sends every monitor call through `loop.run_in_executor(None, ...)`, because a
    real monitor is a gRPC server that answers later. The offline monitor answers in
    microseconds, but handing each call to a worker thread and its result back cost about a
    millisecond a call (thread switches under the GIL): a fifth of a GCP pool's run, nearly
    half of the dev stack's. No thread is ever started (asyncio accepts only a
    ThreadPoolExecutor as the default executor).
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # delivered to the awaiting task, as a thread would
            future.set_exception(error)
        return future


def _serialized(properties: Mapping[str, Any]) -> Any:
    """`rpc.serialize_properties` of plain values, without an event loop.

    The SDK's coroutine awaits only the Outputs and futures among the values; provider
    mocks return plain data, so it completes on its first step. (The SDK's mock monitor
    pumps the event loop instead, which, called on the loop's own thread, would run other
    tasks in the middle of this call.)
    """
    step = rpc.serialize_properties(dict(properties), {})
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise TypeError("a provider mock returned an awaitable; mocks must return plain values")


class FaithfulMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, plus the engine's secret rules and a record of the graph."""

    def __init__(self, provider_mocks: ProviderMocks, run: ProgramRun) -> None:
        super().__init__(provider_mocks)
        self._run = run
        self._urns: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        if request.type == STACK_TYPE:
            return super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        if urn in self._urns:
            # The real engine refuses the whole `pulumi up` for this (a program error).
            raise DuplicateUrnError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        self._urns.add(urn)
        inputs = rpc.deserialize_properties(request.object)
        resource_args = mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=reveal(inputs),
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(resource_args)
        state = _apply_engine_secrecy(state, inputs, request.additionalSecretOutputs)
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_ or "", state)
        self._run.resources.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                inputs=inputs,
                outputs=state,
                dependencies=_dependencies(request),
                protect=bool(request.protect),
                options=_options(request),
            )
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=id_ or "", object=_serialized(state)
        )

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN as the engine forms it: the type qualified by the parent's whole type
        chain, without the root stack's type (the SDK's mock monitor puts
        `pulumi:pulumi:Stack$` in front of every top-level resource, and keeps only the
        parent's last type)."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        resource_args = mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=rpc.deserialize_properties(request.properties),
            provider=request.provider,
            resource_id=request.id,
        )
        id_, state = self.mocks.new_resource(resource_args)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_ or "", state)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=_serialized(state))

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        args = rpc.deserialize_properties(request.args)
        if request.tok == "pulumi:pulumi:getResource":
            found = self.resources.get(args["urn"])
            if found is None:
                raise KeyError(f"unknown resource {args['urn']}")
            return resource_pb2.ResourceInvokeResponse(**{"return": _serialized(found._asdict())})
        self._run.invokes.append((request.tok, reveal(args)))
        answer = self.mocks.call(
            mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider)
        )
        returned, failures = (answer, None) if isinstance(answer, dict) else answer
        return resource_pb2.ResourceInvokeResponse(
            failures=[provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures or ()],
            **{"return": _serialized(returned)},
        )


def _options(request: Any) -> dict[str, Any]:
    """The options set on a registration, by their Python names; defaults left out."""
    options: dict[str, Any] = {}
    if request.protect:
        options["protect"] = True
    if request.deleteBeforeReplaceDefined and request.deleteBeforeReplace:
        options["delete_before_replace"] = True
    if request.replaceOnChanges:
        options["replace_on_changes"] = sorted(request.replaceOnChanges)
    if request.ignoreChanges:
        options["ignore_changes"] = sorted(request.ignoreChanges)
    if request.HasField("retainOnDelete") and request.retainOnDelete:
        options["retain_on_delete"] = True
    if request.deletedWith:
        options["deleted_with"] = request.deletedWith
    aliases = sorted(
        [str(a) for a in request.aliasURNs]
        + [text for text in map(_alias_text, request.aliases) if text]
    )
    if aliases:
        options["aliases"] = aliases
    timeouts = {
        kind: getattr(request.customTimeouts, kind)
        for kind in ("create", "update", "delete")
        if getattr(request.customTimeouts, kind, "")
    }
    if timeouts:
        options["custom_timeouts"] = timeouts
    if request.importId:
        options["import_id"] = request.importId
    return options


def _alias_text(alias: Any) -> str | None:
    """An alias as a reviewer reads it. Aliases that only name an older type token are the
    provider SDK's own (a type it renamed), added to every resource of that type: left out."""
    if alias.HasField("urn"):
        return alias.urn
    spec = alias.spec
    fields = {
        "name": spec.name,
        "type": spec.type,
        "stack": spec.stack,
        "project": spec.project,
        "parent": spec.parentUrn,
    }
    fields = {k: v for k, v in fields.items() if v}
    if spec.noParent:
        fields["parent"] = "(none)"
    if set(fields) <= {"type"}:
        return None
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _dependencies(request: Any) -> tuple[str, ...]:
    """What the engine orders this resource after: the request's explicit dependencies
    and, per input, the resources that input's value came from."""
    urns = set(request.dependencies)
    for property_dependencies in request.propertyDependencies.values():
        urns.update(property_dependencies.urns)
    if request.provider:  # an explicit provider: `<urn>::<id>`, created first
        urns.add(request.provider.rsplit("::", 1)[0])
    urns.discard(request.parent)
    return tuple(sorted(urns))


def _apply_engine_secrecy(
    state: dict[str, Any], inputs: Mapping[str, Any], additional_secret_outputs: Any
) -> dict[str, Any]:
    """Mark outputs secret exactly where the real engine would."""
    marked = dict(state)
    secret_names = set(additional_secret_outputs) | {k for k, v in inputs.items() if is_secret(v)}
    for key in secret_names:
        if key in marked and not is_secret(marked[key]):
            marked[key] = secret(marked[key])
    return marked


def run_program(
    program: Callable[[], object],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    provider_mocks: ProviderMocks | None = None,
    record: ProgramRun | None = None,
) -> ProgramRun:
    """Run ``program`` as ``pulumi up`` would, against mocked providers.

    Every call starts from a fresh root stack, config and event loop, so runs
    never see each other's resources. Pass ``record`` to keep what was declared
    even when the program fails.
    """
    run = record if record is not None else ProgramRun(project=project, stack=stack)
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_ignore_echoes_of_the_raised_error)
    loop.set_default_executor(_AnswerAtOnce())
    asyncio.set_event_loop(loop)
    # Process-wide SDK state: tasks a failed run left behind would otherwise be awaited
    # by the next run forever (the SDK's own `pulumi.runtime.test` clears them too).
    sdk_settings: Any = settings.SETTINGS  # its properties confuse type checkers
    sdk_settings.rpc_manager.clear()
    sdk_settings.outputs.clear()
    settings.set_root_resource(None)  # type: ignore[arg-type] - the SDK's own reset
    mocks_ = provider_mocks or ProviderMocks()
    pulumi.runtime.set_mocks(
        mocks_, project=project, stack=stack, preview=False, monitor=FaithfulMonitor(mocks_, run)
    )
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    try:
        with _sdk_work_nothing_offline_reads(), _long_lived_objects_skipped() as program_returned:
            _sync_await(run_pulumi_func(lambda: _run_quietly(program, program_returned)))
        run.outputs = _resolve_stack_outputs()
    finally:
        _close(loop)
    return run


@contextlib.contextmanager
def _long_lived_objects_skipped() -> Iterator[Callable[[], None]]:
    """Give a callback that, once the program has returned, keeps the garbage collector
    off every object that existed then, until the run ends.

    By then the program has imported all it needs: the cloud SDKs' hundreds of thousands
    of module-level objects live until the process exits. Resolving the registrations
    creates many short-lived objects, and each full collection they trigger would walk the
    whole heap again (two such walks were 35 ms of a 12-resource Azure plan). Objects that
    become garbage meanwhile are collected once the run is over. A process that froze
    objects itself (`gc.freeze()` before forking, say) is left as it is.
    """
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _sdk_work_nothing_offline_reads() -> Iterator[None]:
    """Skip two things the SDK computes for every resource, for the real engine only.

    - Its source position: the SDK walks the Python stack and reads the source line of each
      frame (`traceback.extract_stack`), so that the engine's diagnostics can point at the
      line that declared a resource. It was a tenth of a small stack's run.
    - The URN of each of its aliases (`Resource._aliases`). The SDK reads them only for an
      engine without alias specs; an engine with them, as the real one and this one are,
      receives the aliases themselves in the registration, which stays as it was.
      azure-native declares a resource with some 25 aliases, one per API version: computing
      their URNs was a fifth of an Azure pool's run.

    Each is left alone where the SDK no longer has it.
    """
    from pulumi import resource as sdk_resource_api
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime.proto import source_pb2

    with contextlib.ExitStack() as restore:
        for module, name, skipped in (
            (sdk_resource, "_get_stack_trace", source_pb2.StackTrace),  # an empty trace
            (sdk_resource_api, "collapse_alias_to_urn", _alias_urn_not_computed),
        ):
            original = getattr(module, name, None)
            if original is not None:
                setattr(module, name, skipped)
                restore.callback(setattr, module, name, original)
        yield


def _alias_urn_not_computed(*_: object) -> None:
    return None


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close the run's loop now. A loop left open is closed by the garbage collector, at
    a moment when its self-pipe may be gone already: asyncio then prints "Exception
    ignored ... Invalid file descriptor: -1" on stderr of a run that succeeded."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    asyncio.set_event_loop(None)
    loop.close()


def _resolve_stack_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    resolved: dict[str, Any] = {}
    for name, value in getattr(root, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        plain = _sync_await(output.future())
        resolved[name] = secret(plain) if _sync_await(output.is_secret()) else plain
    return resolved


def _run_quietly(program: Callable[[], object], program_returned: Callable[[], None]) -> None:
    # A program's return value (runpy returns the module's globals) is not an output.
    program()
    program_returned()


def _ignore_echoes_of_the_raised_error(
    loop: asyncio.AbstractEventLoop, context: dict[str, Any]
) -> None:
    # When a program fails, the outputs that depended on the failed step hold the same
    # error; it has been raised to the caller already, so asyncio's "never retrieved"
    # reports of it are noise. Anything else is reported as usual.
    if "never retrieved" not in str(context.get("message", "")):
        loop.default_exception_handler(context)
