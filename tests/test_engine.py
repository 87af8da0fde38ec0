"""The offline engine behaves like the real one where a lax mock would hide a leak."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from typing import Any

import pulumi
import pulumi.resource as pulumi_resource
import pytest
from pulumi.runtime import mocks, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await
from pulumi_gcp import serviceaccount

from pushpools_tools import engine
from pushpools_tools.engine import DuplicateUrnError, ProgramRun, is_secret, run_program
from pushpools_tools.provider_mocks import ProviderMocks, UnmockedError


def _run(program) -> ProgramRun:
    return run_program(program, project="p", stack="s", config={}, secret_keys=[])


def _key_program() -> None:
    account = serviceaccount.Account("sa", account_id="prefect-x", project="acme-proj")
    key = serviceaccount.Key("key", service_account_id=account.name)
    pulumi.export("private_key", key.private_key)
    pulumi.export("email", account.email)


def test_schema_secret_outputs_come_back_secret_as_the_engine_marks_them() -> None:
    run = _run(_key_program)
    key = run.one("gcp:serviceaccount/key:Key", "key")
    assert is_secret(key.outputs["privateKey"])
    assert is_secret(run.outputs["private_key"])
    assert not is_secret(run.outputs["email"])


def test_the_sdk_mock_monitor_alone_would_leak_the_key() -> None:
    """The control: the SDK's plain mock monitor leaves the same key in plain text,
    which is why the engine applies the real engine's secret rules itself."""
    plain = ProviderMocks()
    asyncio.set_event_loop(asyncio.new_event_loop())
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(plain, "p", "s", preview=False, monitor=mocks.MockMonitor(plain))

    async def key_is_secret() -> bool:
        account = serviceaccount.Account("sa", account_id="prefect-x", project="acme-proj")
        key = serviceaccount.Key("key", service_account_id=account.name)
        return await key.private_key.is_secret()

    assert _sync_await(key_is_secret()) is False


def test_an_output_of_a_secret_input_stays_secret() -> None:
    def program() -> None:
        account = serviceaccount.Account(
            "sa",
            account_id="prefect-x",
            project="acme-proj",
            description=pulumi.Output.secret("internal"),
        )
        pulumi.export("description", account.description)

    run = _run(program)
    assert is_secret(run.one("gcp:serviceaccount/account:Account").outputs["description"])
    assert is_secret(run.outputs["description"])


def test_inputs_reach_providers_under_wire_names() -> None:
    run = _run(_key_program)
    account = run.one("gcp:serviceaccount/account:Account", "sa")
    assert account.inputs["accountId"] == "prefect-x"
    assert "account_id" not in account.inputs


def test_an_unmocked_resource_type_fails_the_run() -> None:
    def program() -> None:
        from pulumi_gcp import storage

        storage.Bucket("b", location="EU", project="acme-proj")

    with pytest.raises(Exception, match="no provider mock for gcp:storage/bucket:Bucket"):
        _run(program)


def test_an_unmocked_invoke_fails_the_run() -> None:
    def program() -> None:
        from pulumi_gcp import organizations

        organizations.get_client_config()

    with pytest.raises(Exception, match="no provider mock for gcp:organizations/getClientConfig"):
        _run(program)


def test_a_failed_run_does_not_hang_or_leak_into_the_next() -> None:
    def broken() -> None:
        from pulumi_gcp import storage

        storage.Bucket("b", location="EU", project="acme-proj")

    with pytest.raises(UnmockedError):
        _run(broken)
    run = _run(_key_program)
    assert [r.name for r in run.resources if r.custom] == ["sa", "key"]


def test_runs_do_not_see_each_other() -> None:
    first = _run(_key_program)
    second = _run(_key_program)
    assert len(first.find("gcp:serviceaccount/key:Key")) == 1
    assert len(second.find("gcp:serviceaccount/key:Key")) == 1


def test_unmocked_error_is_raised_by_the_provider_mocks_directly() -> None:
    args = mocks.MockResourceArgs(typ="nope:x/y:Z", name="n", inputs={}, custom=True)
    with pytest.raises(UnmockedError):
        ProviderMocks().new_resource(args)


def test_two_resources_with_one_urn_fail_the_run_as_the_engine_refuses_them() -> None:
    def program() -> None:
        serviceaccount.Account("sa", account_id="prefect-x", project="acme-proj")
        serviceaccount.Account("sa", account_id="prefect-y", project="acme-proj")

    with pytest.raises(DuplicateUrnError, match=r"Duplicate resource URN 'urn:pulumi:s::p::"):
        _run(program)


def test_one_name_under_two_parents_of_one_type_is_one_urn_too() -> None:
    # A URN holds the parent's type, not its name: children of two pools need names of
    # their own (hence `<pool>-...` logical names).
    def program() -> None:
        for pool in ("one", "two"):
            serviceaccount.Account(
                "sa",
                account_id=f"{pool}-prefect",
                project="acme-proj",
                opts=pulumi.ResourceOptions(
                    parent=pulumi.ComponentResource("test:index:Pool", pool)
                ),
            )

    with pytest.raises(DuplicateUrnError, match=r"test:index:Pool\$gcp:serviceaccount"):
        _run(program)


def test_a_run_leaves_no_event_loop_open() -> None:
    # An open loop is closed by the garbage collector later, which can print "Exception
    # ignored ... Invalid file descriptor: -1" on stderr of a successful plan.
    before = set(map(id, _open_loops()))
    _run(_key_program)
    assert [loop for loop in _open_loops() if id(loop) not in before] == []


def _open_loops() -> list[asyncio.AbstractEventLoop]:
    gc.collect()
    return [
        o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()
    ]


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_a_program_leaves_is_collected_once_the_run_is_over() -> None:
    # While the registrations resolve, the collector skips what existed when the program
    # returned; afterwards nothing may stay frozen, or cycles would live until exit.
    import weakref

    refs: list[weakref.ref[_Cycle]] = []

    def program() -> None:
        refs.append(weakref.ref(_Cycle()))
        _key_program()

    frozen_before = gc.get_freeze_count()  # not 0 everywhere: CPython 3.12.1 starts with 375
    _run(program)
    assert gc.get_freeze_count() == frozen_before
    gc.collect()
    assert refs[0]() is None


def test_a_run_leaves_objects_its_caller_froze_frozen() -> None:
    # A process that froze its objects (before forking workers, say) keeps them frozen.
    kept = _Cycle()
    gc.freeze()
    try:
        _run(_key_program)
        # The collector sees only objects that are not frozen.
        assert all(o is not kept for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())


def _monitor_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, list[str]]]:
    """Record each registration the monitor answers: name, thread, and the aliases the
    request carries (as text)."""
    calls: list[tuple[str, int, list[str]]] = []
    answer = engine.FaithfulMonitor.RegisterResource

    def recording(self: engine.FaithfulMonitor, request: Any) -> Any:
        aliases = [str(alias).replace("\n", " ") for alias in request.aliases]
        calls.append((request.name, threading.get_ident(), aliases))
        return answer(self, request)

    monkeypatch.setattr(engine.FaithfulMonitor, "RegisterResource", recording)
    return calls


def test_the_monitor_answers_on_the_programs_thread_and_starts_no_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Handing each call to a worker thread cost about a millisecond a call
    # (docs/benchmarks.md); the answers must still reach the program as before.
    calls = _monitor_calls(monkeypatch)
    threads_before = set(threading.enumerate())
    run = _run(_key_program)
    assert {thread for _, thread, _ in calls} == {threading.get_ident()}
    assert set(threading.enumerate()) == threads_before
    assert run.outputs["email"] == "prefect-x@acme-proj.iam.gserviceaccount.com"
    assert is_secret(run.outputs["private_key"])


def _aliased_program() -> None:
    renamed = pulumi.ComponentResource(
        "test:index:Pool",
        "pool",
        opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-pool")]),
    )
    serviceaccount.Account(
        "sa",
        account_id="prefect-x",
        project="acme-proj",
        opts=pulumi.ResourceOptions(
            parent=renamed, aliases=[pulumi.Alias(name="old-sa"), pulumi.Alias(type_="x:y:Z")]
        ),
    )


def test_skipping_the_sdks_alias_urns_leaves_every_registration_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK computes each alias's URN for engines without alias specs; this one, like
    # the real engine, takes the specs, so the run skips the URNs. The control run keeps
    # the SDK as it is: the requests must not differ.
    assert resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS in (
        engine.FaithfulMonitor(ProviderMocks(), ProgramRun("p", "s"))
        .GetDeploymentInfo(None)
        .supportedFeatures
    )
    sdk_collapse = pulumi_resource.collapse_alias_to_urn
    skipped = _monitor_calls(monkeypatch)
    _run(_aliased_program)
    assert pulumi_resource.collapse_alias_to_urn is sdk_collapse  # restored after the run

    monkeypatch.setattr(engine, "_sdk_work_nothing_offline_reads", contextlib.nullcontext)
    kept = _monitor_calls(monkeypatch)
    _run(_aliased_program)

    def aliases(calls: list[tuple[str, int, list[str]]]) -> dict[str, list[str]]:
        return {name: found for name, _, found in calls}

    assert aliases(skipped) == aliases(kept)
    assert any('name: "old-sa"' in spec for spec in aliases(kept)["sa"])
    assert any('type: "x:y:Z"' in spec for spec in aliases(kept)["sa"])
    assert any('name: "old-pool"' in spec for spec in aliases(kept)["pool"])


def test_reading_an_existing_resource_declares_nothing_to_create() -> None:
    # `Resource.get` reads what exists (Pulumi never creates or deletes it): the run gets
    # the resource back under its ID, and the plan lists nothing for it.
    account_id = "projects/acme-proj/serviceAccounts/x@acme-proj.iam.gserviceaccount.com"

    def program() -> None:
        pulumi.export("id", serviceaccount.Account.get("existing", account_id).id)

    run = _run(program)
    assert run.outputs["id"] == account_id
    assert [r for r in run.resources if r.custom] == []


def _invoke(monitor: engine.FaithfulMonitor, token: str, args: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    request_args = struct_pb2.Struct()
    request_args.update(args)
    return monitor.Invoke(resource_pb2.ResourceInvokeRequest(tok=token, args=request_args))


def test_an_invoke_returns_the_mock_answer_and_its_check_failures() -> None:
    # A provider's check failures travel with the answer, as the engine sends them.
    class Failing(ProviderMocks):
        def call(self, args: mocks.MockCallArgs) -> Any:
            return {"accountId": "123456789012"}, [("region", "not a region")]

    run = ProgramRun("p", "s")
    answer = _invoke(
        engine.FaithfulMonitor(Failing(), run), "aws:index/getCallerIdentity:getCallerIdentity", {}
    )
    assert dict(getattr(answer, "return")) == {"accountId": "123456789012"}
    assert [(f.property, f.reason) for f in answer.failures] == [("region", "not a region")]
    assert run.invokes == [("aws:index/getCallerIdentity:getCallerIdentity", {})]


def test_get_resource_answers_with_a_registered_resource_and_is_not_recorded_as_an_invoke() -> None:
    run = ProgramRun("p", "s")
    monitor = engine.FaithfulMonitor(ProviderMocks(), run)
    urn = "urn:pulumi:s::p::gcp:serviceaccount/account:Account::sa"
    monitor.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, "sa-id", {"a": "b"})
    answer = _invoke(monitor, "pulumi:pulumi:getResource", {"urn": urn})
    returned = getattr(answer, "return")
    assert returned["id"] == "sa-id"
    assert dict(returned["state"]) == {"a": "b"}
    assert run.invokes == []
    with pytest.raises(KeyError, match="unknown resource"):
        _invoke(monitor, "pulumi:pulumi:getResource", {"urn": urn + "-missing"})
