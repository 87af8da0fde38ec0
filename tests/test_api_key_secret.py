"""The Prefect API key in the cloud's secret store (issue 22): stored as a Pulumi secret,
readable only by the identity that starts the jobs, and reaching jobs only by reference.

Graph tests run the real stack program on the offline engine; the job definitions are
built by Prefect's own workers (prefect-aws's ECS worker against the fake AWS account,
prefect-gcp's Cloud Run v1 and v2 job bodies, which are pure code) from the pool's
template defaults, with the worker's own Prefect settings holding the key, as a worker's
do: without the secret store, that key would be in the job's environment.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.objects import FlowRun, WorkPool
from prefect.settings import (
    PREFECT_API_KEY,
    PREFECT_API_URL,
    PREFECT_LOGGING_TO_API_ENABLED,
    temporary_settings,
)

from pushpools.components.pool_args import ComponentArgsError
from pushpools.components.prefect.client import PrefectError
from pushpools.components.prefect.work_pools import WorkPoolProvider
from pushpools_tools.diff import diff_plans
from pushpools_tools.engine import ProgramRun, is_secret, reveal
from pushpools_tools.plan import DIGEST_KEY_ENV, plan_document, render_text
from tests.harness import config_problems, inputs, outputs, run_config
from tests.prefect_server import PrefectServer

KEY = "pnu_FlowRunsKey0123456789abcdefghijklmn"
ROTATED = "pnu_RotatedKey0123456789abcdefghijklmno"
STACK_KEY = "pnu_StackOwnKey0123456789abcdefghijklm"
REGION = "eu-west-1"
PROJECT = "acme-data-dev"
RUNTIME_SA = f"run-jobs@{PROJECT}.iam.gserviceaccount.com"
SECRET_KEYS = ["pushpools:prefectApiKey", "pushpools:flowRunsKey"]


def _config(*pools: dict[str, Any], key: str | None = KEY) -> dict[str, Any]:
    """`key`: the flow runs' key (`flowRunsKey`); None for pools that store none (an
    unused secret key is refused as unknown)."""
    config = {"pushpools:pools": list(pools), "pushpools:prefectApiKey": STACK_KEY}
    return config if key is None else {**config, "pushpools:flowRunsKey": key}


ECS = {
    "name": "ecs",
    "type": "ecs",
    "aws": {"region": REGION, "prefect_api_key_secret": {"config_key": "flowRunsKey"}},
}
RUN_V2 = {
    "name": "run",
    "type": "cloud-run-v2",
    "gcp": {
        "project": PROJECT,
        "region": "europe-west1",
        "prefect_api_key_secret": {"config_key": "flowRunsKey"},
    },
}
RUN_V1 = {**RUN_V2, "name": "runv1", "type": "cloud-run"}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_config(_config(ECS, RUN_V2, RUN_V1), SECRET_KEYS)


def _defaults(run: ProgramRun, pool: str) -> dict[str, Any]:
    return run.outputs["pools"][pool]["template_defaults"]


# --- AWS: Secrets Manager, read by the execution role only ---------------------------------


def test_ecs_stores_the_key_as_a_secret_and_points_the_template_at_it(run: ProgramRun) -> None:
    secret = run.one("aws:secretsmanager/secret:Secret", "ecs-prefect-api-key")
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion")
    arn = outputs(secret)["arn"]
    assert inputs(secret)["name"] == "ecs-prefect-api-key"
    assert inputs(secret)["region"] == REGION
    # A destroy deletes it at once, so a later `pulumi up` can create the name again.
    assert inputs(secret)["recoveryWindowInDays"] == 0
    assert inputs(secret)["tags"]["prefect-work-pool"] == "ecs"
    assert inputs(version)["secretId"] == arn
    assert is_secret(version.inputs["secretString"])
    assert reveal(version.inputs["secretString"]) == KEY
    assert _defaults(run, "ecs")["prefect_api_key_secret_arn"] == arn


def test_only_the_execution_role_may_read_the_secret_and_only_that_one(run: ProgramRun) -> None:
    arn = outputs(run.one("aws:secretsmanager/secret:Secret"))["arn"]
    readers = [
        r
        for r in run.find("aws:iam/rolePolicy:RolePolicy")
        if "secretsmanager" in inputs(r)["policy"]
    ]
    assert [r.name for r in readers] == ["ecs-prefect-api-key-read"]
    assert (
        inputs(readers[0])["role"]
        == inputs(run.one("aws:iam/role:Role", "ecs-execution-role"))["name"]
    )
    assert json.loads(inputs(readers[0])["policy"])["Statement"] == [
        {
            "Sid": "ReadPrefectCredential",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": arn,
        }
    ]


def test_prefects_own_policy_gains_nothing() -> None:
    """The worker only writes the ARN into the task definition: Prefect's key needs no
    secretsmanager (or kms) permission, so its policy is exactly what it was."""
    plain = {**ECS, "aws": {"region": REGION}}
    without = run_config(_config(plain, key=None), SECRET_KEYS)
    with_secret = run_config(_config(ECS), SECRET_KEYS)
    policy = "aws:iam/policy:Policy"
    assert inputs(with_secret.one(policy))["policy"] == inputs(without.one(policy))["policy"]
    assert "secretsmanager" not in inputs(with_secret.one(policy))["policy"]


# --- GCP: Secret Manager, read by the runtime account only ---------------------------------


def test_cloud_run_stores_the_key_in_the_pools_region_with_its_api_enabled(
    run: ProgramRun,
) -> None:
    secret = run.one("gcp:secretmanager/secret:Secret", "run-prefect-api-key")
    assert inputs(secret)["secretId"] == "run-prefect-api-key"
    assert inputs(secret)["replication"] == {
        "userManaged": {"replicas": [{"location": "europe-west1"}]}
    }
    assert inputs(secret)["labels"]["prefect-work-pool"] == "run"
    services = [inputs(s)["service"] for s in run.find("gcp:projects/service:Service")]
    assert services.count("secretmanager.googleapis.com") == 2  # one per pool that stores
    version = run.one("gcp:secretmanager/secretVersion:SecretVersion", "run-prefect-api-key-value")
    assert is_secret(version.inputs["secretData"])
    assert reveal(version.inputs["secretData"]) == KEY
    assert _defaults(run, "run")["prefect_api_key_secret"] == {
        "secret": "run-prefect-api-key",
        "version": "latest",
    }


def test_only_the_runtime_account_may_read_the_secret(run: ProgramRun) -> None:
    grants = [
        inputs(g)
        for g in run.find("gcp:secretmanager/secretIamMember:SecretIamMember")
        if inputs(g)["secretId"] == "run-prefect-api-key"
    ]
    assert grants == [
        {
            "project": PROJECT,
            "secretId": "run-prefect-api-key",
            "role": "roles/secretmanager.secretAccessor",
            "member": f"serviceAccount:{RUNTIME_SA}",
        }
    ]
    # Prefect's own account gains nothing: no project role, no grant on the secret.
    roles = {inputs(m)["role"] for m in run.find("gcp:projects/iAMMember:IAMMember")}
    assert not any("secretmanager" in role for role in roles)


def test_a_pool_without_the_setting_is_unchanged() -> None:
    """No secret, no extra API, no new template default (what stacks hold today)."""
    run = run_config(_config({**RUN_V2, "gcp": {"project": PROJECT}}, key=None), SECRET_KEYS)
    assert run.find("gcp:secretmanager/secret:Secret") == []
    services = {inputs(s)["service"] for s in run.find("gcp:projects/service:Service")}
    assert "secretmanager.googleapis.com" not in services
    assert set(_defaults(run, "run")) == {"region", "service_account_name"}


# --- no plain text anywhere ----------------------------------------------------------------


def test_no_output_plan_or_template_default_holds_the_key(run: ProgramRun) -> None:
    plan = plan_document(run)
    texts = {
        "stack outputs": json.dumps(run.outputs, default=str),
        "plan (json)": json.dumps(plan, default=str),
        "plan (text)": render_text(run),
        "template defaults": json.dumps(
            {pool: _defaults(run, pool) for pool in ("ecs", "run", "runv1")}
        ),
    }
    for where, text in texts.items():
        for key in (KEY, STACK_KEY):
            assert key not in text, f"the key is in plain text in the {where}"
    # Every input that holds it is a secret on the wire (encrypted in the state).
    for resource in run.resources:
        for name, value in resource.inputs.items():
            if KEY in json.dumps(reveal(value), default=str):
                assert is_secret(value), f"{resource.type} {resource.name}.{name}"


# --- Prefect's workers build jobs that carry only the reference -----------------------------


def _flow_run() -> FlowRun:
    return FlowRun(flow_id=uuid.uuid4(), deployment_id=uuid.uuid4(), name="nightly")


def _worker_settings() -> Any:
    # A worker's own settings: its API key is what Prefect would put into the job's env.
    return temporary_settings(
        {
            PREFECT_API_URL: "https://api.prefect.cloud/api/accounts/a/workspaces/w",
            PREFECT_API_KEY: KEY,
            PREFECT_LOGGING_TO_API_ENABLED: False,
        }
    )


def _with_defaults(template: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    for name, value in defaults.items():
        template["variables"]["properties"][name]["default"] = value
    return template


def test_the_ecs_worker_registers_a_task_definition_with_the_key_only_by_arn(
    run: ProgramRun, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prefect_aws import credentials as prefect_aws_credentials
    from prefect_aws.workers import ecs_worker
    from prefect_aws.workers.ecs_worker import ECSJobConfiguration, ECSWorker

    from tests.fake_aws import FakeAws

    defaults = _defaults(run, "ecs")
    block = reveal(run.outputs["credentials_blocks"])["ecs"]["data"]
    policy = json.loads(inputs(run.one("aws:iam/policy:Policy"))["policy"])
    fake = FakeAws(
        policy,
        vpc_id=defaults["vpc_id"],
        subnet_ids=defaults["network_configuration"]["subnets"],
    )
    fake.install(monkeypatch)
    prefect_aws_credentials._get_client_cached.cache_clear()
    ecs_worker._TASK_DEFINITION_CACHE.clear()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    template = _with_defaults(ECSWorker.get_default_base_job_template(), defaults)
    flow_run = _flow_run()
    with _worker_settings():
        configuration = asyncio.run(
            ECSJobConfiguration.from_template_and_values(
                template, {"aws_credentials": block}, client=object()
            )
        )
        configuration.prepare_for_flow_run(flow_run)
        worker = ECSWorker(work_pool_name="ecs")
        worker._work_pool = WorkPool(name="ecs", type="ecs", base_job_template=template)
        asyncio.run(worker.run(flow_run, configuration))
    ecs_worker._TASK_DEFINITION_CACHE.clear()

    (definition,) = [c.params for c in fake.calls if c.operation == "RegisterTaskDefinition"]
    (container,) = definition["containerDefinitions"]
    assert container["secrets"] == [
        {"name": "PREFECT_API_KEY", "valueFrom": defaults["prefect_api_key_secret_arn"]}
    ]
    assert "PREFECT_API_KEY" not in {e["name"] for e in container.get("environment", [])}
    (request,) = [c.params for c in fake.calls if c.operation == "RunTask"]
    for call in (definition, request):
        assert KEY not in json.dumps(call, default=str)


@pytest.mark.parametrize("pool", ["run", "runv1"])
def test_the_cloud_run_worker_builds_a_job_that_takes_the_key_from_the_secret(
    run: ProgramRun, pool: str
) -> None:
    from prefect_gcp.workers.cloud_run import CloudRunWorker, CloudRunWorkerJobConfiguration
    from prefect_gcp.workers.cloud_run_v2 import (
        CloudRunWorkerJobV2Configuration,
        CloudRunWorkerV2,
    )

    worker, configuration_class = {
        "run": (CloudRunWorkerV2, CloudRunWorkerJobV2Configuration),
        "runv1": (CloudRunWorker, CloudRunWorkerJobConfiguration),
    }[pool]
    defaults = _defaults(run, pool)
    block = reveal(run.outputs["credentials_blocks"])[pool]["data"]
    template = _with_defaults(worker.get_default_base_job_template(), defaults)
    with _worker_settings():
        configuration = asyncio.run(
            configuration_class.from_template_and_values(
                template, {"credentials": block, "image": "prefecthq/prefect:3-latest"}
            )
        )
        configuration.prepare_for_flow_run(_flow_run())
    body = configuration.job_body
    containers = (
        body["template"]["template"]["containers"]
        if pool == "run"
        else body["spec"]["template"]["spec"]["template"]["spec"]["containers"]
    )
    (key_env,) = [e for e in containers[0]["env"] if e["name"] == "PREFECT_API_KEY"]
    reference = {"secret": f"{pool}-prefect-api-key", "version": "latest"}
    if pool == "run":
        assert key_env == {"name": "PREFECT_API_KEY", "valueSource": {"secretKeyRef": reference}}
    else:
        assert key_env == {
            "name": "PREFECT_API_KEY",
            "valueFrom": {
                "secretKeyRef": {"name": reference["secret"], "key": reference["version"]}
            },
        }
    assert KEY not in json.dumps(body, default=str)


# --- rotation: a config change, the version only ------------------------------------------


def test_a_new_key_replaces_only_the_secrets_version(
    run: ProgramRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DIGEST_KEY_ENV, "a-throwaway-key-for-this-comparison")
    before = plan_document(run_config(_config(ECS, RUN_V2), SECRET_KEYS))
    after = plan_document(run_config(_config(ECS, RUN_V2, key=ROTATED), SECRET_KEYS))
    diff = diff_plans(before, after)
    assert sorted((c.action, c.type, c.name) for c in diff.changes) == [
        ("replace", "aws:secretsmanager/secretVersion:SecretVersion", "ecs-prefect-api-key-value"),
        (
            "replace",
            "gcp:secretmanager/secretVersion:SecretVersion",
            "run-prefect-api-key-value",
        ),
    ]
    for change in diff.changes:
        assert [(i.key, i.secret) for i in change.inputs] == [
            ("secretString" if "aws" in change.type else "secretData", True)
        ]
    # The template (and every other output) stays: running jobs keep their key, the next
    # ones read the new version; nothing in Prefect changes.
    assert diff.outputs == []
    for document in (before, after):
        for key in (KEY, ROTATED):
            assert key not in json.dumps(document, default=str)


# --- what is refused, before anything is declared -------------------------------------------


def test_a_push_type_is_refused_naming_the_pool_type_and_variable() -> None:
    pool = {**ECS, "type": "ecs:push"}
    assert config_problems(_config(pool), SECRET_KEYS) == [
        "pushpools:pools[0]: aws.prefect_api_key_secret is set, but the template Prefect serves "
        "for 'ecs:push' pools declares no variable 'prefect_api_key_secret_arn', so the flow "
        "runs would never read the secret; the 'ecs' worker type's template declares it: use "
        "type 'ecs', or give prefect.base_job_template_file with a template that declares it"
    ]


def test_the_source_key_must_be_set_and_secret() -> None:
    missing = {**ECS, "aws": {"region": REGION, "prefect_api_key_secret": {"config_key": "nope"}}}
    assert config_problems(_config(missing, key=None), SECRET_KEYS) == [
        "pushpools:nope: required by pushpools:pools[0].aws.prefect_api_key_secret.config_key, "
        "but not set; set it with `pulumi config set --secret pushpools:nope <value>`"
    ]
    problems = config_problems(_config(ECS), ["pushpools:prefectApiKey"])
    assert problems == [
        "pushpools:flowRunsKey: holds a credential (named by "
        "pushpools:pools[0].aws.prefect_api_key_secret.config_key) but is stored in plain text; "
        "set it with `pulumi config set --secret pushpools:flowRunsKey <value>`"
    ]


def test_a_component_needs_the_key_where_it_stores_one() -> None:
    from pushpools.components.aws.pool import EcsPushPool

    with pytest.raises(ComponentArgsError) as caught:
        EcsPushPool(
            "ecs",
            {
                "region": REGION,
                "type": "ecs",
                "prefect_api_key_secret": {"config_key": "x"},  # type: ignore[typeddict-unknown-key]
            },
        )
    assert caught.value.problems == [
        "args.prefect_api_key_secret.config_key: not an argument of a component (it names the "
        "stack-config key the stack program reads the secret from); give the secret itself as "
        "args.prefect_api_key",
        "args.prefect_api_key: required by args.prefect_api_key_secret, but not set",
    ]


# --- registration in a real Prefect server --------------------------------------------------


def _props(server: PrefectServer, name: str, defaults: dict[str, Any], **extra: Any) -> dict:
    return {
        "api_url": server.api_url,
        "api_key": None,
        "auth_string": None,
        "name": name,
        "type": "ecs",
        "description": None,
        "concurrency_limit": None,
        "paused": False,
        "template_defaults": defaults,
        "credentials_variable": None,
        "block_document_id": None,
        "base_template": None,
        "adopt_existing": False,
        **extra,
    }


def test_registration_with_the_workers_template_sets_the_secret_default(
    run: ProgramRun, prefect_server: PrefectServer, unique_name: str
) -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect_aws.workers.ecs_worker import ECSWorker

    defaults = _defaults(run, "ecs")
    template = ECSWorker.get_default_base_job_template()
    WorkPoolProvider().create(_props(prefect_server, unique_name, defaults, base_template=template))
    with SyncPrefectClient(prefect_server.api_url) as client:
        pool = client.read_work_pool(unique_name)
    variables = pool.base_job_template["variables"]["properties"]
    assert (
        variables["prefect_api_key_secret_arn"]["default"] == defaults["prefect_api_key_secret_arn"]
    )
    assert KEY not in json.dumps(pool.base_job_template)


def test_registration_refuses_a_served_template_without_the_variable(
    run: ProgramRun, prefect_server: PrefectServer, unique_name: str
) -> None:
    """The `ecs` template this server serves (Prefect's collection registry, bundled with
    prefect for offline servers) predates the variable: refused, not silently dropped."""
    with pytest.raises(PrefectError) as caught:
        WorkPoolProvider().create(_props(prefect_server, unique_name, _defaults(run, "ecs")))
    message = str(caught.value)
    assert message.startswith(f"work pool {unique_name!r} (type 'ecs'): ")
    assert "no variable 'prefect_api_key_secret_arn'" in message
    assert "the worker's own default template" in message


def test_without_internet_the_stored_key_is_reached_through_a_secrets_manager_endpoint() -> None:
    """With `egress: endpoints` the ECS agent has no route to Secrets Manager's public
    endpoint: storing the key there brings its VPC endpoint, and without a stored key the
    layout has none."""
    private = {"region": REGION, "network": {"egress": "endpoints"}}
    stored = {**ECS, "aws": {**private, "prefect_api_key_secret": {"config_key": "flowRunsKey"}}}
    plain = {**ECS, "aws": private}
    endpoint = "aws:ec2/vpcEndpoint:VpcEndpoint"

    def services(run: ProgramRun) -> list[str]:
        return sorted(inputs(e)["serviceName"].rsplit(".", 1)[-1] for e in run.find(endpoint))

    assert "secretsmanager" in services(run_config(_config(stored), SECRET_KEYS))
    assert "secretsmanager" not in services(run_config(_config(plain, key=None), SECRET_KEYS))
