"""The pool components as a Pulumi package for every language, through the real host.

The schema the component provider host infers is what `pulumi package add` turns into a
TypeScript, Go, C#, Java or YAML SDK: every component, every argument with its type and
description, and the credentials block marked secret. The host is also started as Pulumi
starts a source-based Python plugin and asked for its schema over gRPC, and a Construct
under the offline engine declares what the Python class declares.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from harness import PROJECT_DIR, inputs
from host_process import construct, host_schema
from plugin_process import plugin_port as plugin_port_of
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pushpools.components.aws.pool import EcsPushPool
from pushpools.components.azure.pool import AciPushPool
from pushpools.components.coiled.pool import CoiledPushPool
from pushpools.components.gcp.pool import CloudRunPushPool
from pushpools.components.managed.pool import ManagedPool
from pushpools.components.modal.pool import ModalPushPool
from pushpools_tools.engine import is_secret, reveal, run_program

PLUGIN_DIR = PROJECT_DIR / "provider"
PROJECT = "acme-data-dev"
COMPONENTS = [
    CloudRunPushPool,
    EcsPushPool,
    AciPushPool,
    ModalPushPool,
    ManagedPool,
    CoiledPushPool,
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return host_schema()


def test_the_package_serves_every_pool_component(schema: dict[str, Any]) -> None:
    assert set(schema["resources"]) == {f"pushpools:index:{c.__name__}" for c in COMPONENTS}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def args_class(component: type) -> Any:
    return typing.get_type_hints(component.__init__)["args"]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_arg_is_in_the_schema_with_its_type_and_description(
    schema: dict[str, Any], component: type
) -> None:
    resource = schema["resources"][f"pushpools:index:{component.__name__}"]
    assert resource["isComponent"] is True
    assert resource["description"]
    fields = args_class(component).__annotations__
    assert set(resource["inputProperties"]) == {camel(f) for f in fields}
    for name, prop in resource["inputProperties"].items():
        assert "type" in prop or "$ref" in prop, name
        assert len(prop.get("description", "")) > 20, name
        assert "\n" not in prop["description"]
    required = set(resource.get("requiredInputs", []))
    assert required == {camel(f) for f in args_class(component).__required_keys__}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_output_is_described_and_only_the_block_is_secret(
    schema: dict[str, Any], component: type
) -> None:
    outputs = schema["resources"][f"pushpools:index:{component.__name__}"]["properties"]
    common = {
        "workPoolName",
        "workPoolType",
        "credentialsBlock",
        "templateDefaults",
        "imageNamespace",
        "imageReference",
    }
    assert common <= set(outputs)
    for name, prop in outputs.items():
        assert prop.get("description"), name
        assert prop.get("secret", False) is (name == "credentialsBlock"), name
    assert outputs["credentialsBlock"]["$ref"] == "#/types/pushpools:index:CredentialsBlockPayload"


def test_choices_are_enums_in_the_schema(schema: dict[str, Any]) -> None:
    scope = schema["resources"]["pushpools:index:CloudRunPushPool"]["inputProperties"][
        "serviceAccountUserScope"
    ]
    enum = schema["types"][scope["$ref"].removeprefix("#/types/")]
    assert [v["value"] for v in enum["enum"]] == ["runtime-account", "project"]
    launch = schema["resources"]["pushpools:index:EcsPushPool"]["inputProperties"]["launchType"]
    enum = schema["types"][launch["$ref"].removeprefix("#/types/")]
    assert {v["value"] for v in enum["enum"]} == {"FARGATE", "FARGATE_SPOT"}


def test_nested_args_are_object_types_with_described_properties(schema: dict[str, Any]) -> None:
    """`names`, `network`, `ecr`: the stack config's nesting, as object types of the schema."""
    aws = schema["resources"]["pushpools:index:EcsPushPool"]["inputProperties"]
    for arg, keys in {
        "names": {"executionRole", "cluster", "repository", "securityGroup", "vpc"},
        "network": {"vpcId", "subnetIds", "cidrBlock", "assignPublicIp"},
        "ecr": {"immutableTags", "keepLastImages", "deleteImagesOnDestroy"},
    }.items():
        nested = schema["types"][aws[arg]["$ref"].removeprefix("#/types/")]
        assert keys <= set(nested["properties"]), arg
        for name, prop in nested["properties"].items():
            assert len(prop.get("description", "")) > 10, f"{arg}.{name}"


def test_args_from_other_resources_may_be_outputs_and_the_rest_are_plain(
    schema: dict[str, Any],
) -> None:
    gcp = schema["resources"]["pushpools:index:CloudRunPushPool"]["inputProperties"]
    assert "plain" not in gcp["project"]  # a project made elsewhere
    assert gcp["region"]["plain"] is True  # checked before anything is created
    aws = schema["resources"]["pushpools:index:EcsPushPool"]["inputProperties"]
    network = schema["types"][aws["network"]["$ref"].removeprefix("#/types/")]
    assert "plain" not in network["properties"]["vpcId"]
    assert "plain" not in network["properties"]["subnetIds"]


@pytest.fixture(scope="module")
def plugin_python() -> Path:
    """The plugin's own environment, as `toolchain: uv` makes it: `uv sync` in the plugin
    folder, which installs pushpools from the repository root as a wheel (not this
    checkout's editable install)."""
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    # uv keys its cache of a path dependency on pyproject.toml, not on the sources: rebuild
    # the wheel, or the plugin would serve the code of an earlier run.
    subprocess.run(
        [uv, "sync", "--frozen", "--quiet", "--reinstall-package", "pushpools"],
        cwd=PLUGIN_DIR,
        check=True,
        timeout=600,
    )
    return PLUGIN_DIR / ".venv" / "bin" / "python"


@pytest.fixture(scope="module")
def plugin_port(plugin_python: Path) -> Iterator[int]:
    """The plugin as the Python language host runs a source-based plugin with a
    `__main__.py`: `<plugin venv python> <plugin dir> <engine address>`, no PYTHONPATH."""
    argv = [str(plugin_python), "-u", str(PLUGIN_DIR), "127.0.0.1:1"]
    with plugin_port_of(argv, PLUGIN_DIR) as port:
        yield port


def test_the_plugin_serves_the_schema_over_grpc(plugin_port: int, schema: dict[str, Any]) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{plugin_port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
    served = json.loads(response.schema)
    assert served["name"] == "pushpools"
    assert served == schema


def test_the_plugin_folder_is_a_source_based_python_package() -> None:
    import yaml

    manifest = yaml.safe_load((PLUGIN_DIR / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert (PLUGIN_DIR / "__main__.py").is_file()
    pyproject = (PLUGIN_DIR / "pyproject.toml").read_text()
    assert 'pushpools = { path = "..", editable = false }' in pyproject
    assert (PLUGIN_DIR / "uv.lock").is_file()


def test_the_plugin_runs_the_installed_library_not_the_checkout(plugin_python: Path) -> None:
    where = subprocess.run(
        [str(plugin_python), "-c", "import pushpools.components.gcp.pool as m; print(m.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(PLUGIN_DIR / ".venv")), where


def test_construct_declares_the_same_children_as_the_python_class() -> None:
    from pushpools.components.gcp.pool import CloudRunPushPoolArgs, ServiceAccountUserScope

    constructed = construct(
        "pushpools:index:CloudRunPushPool",
        "ml",
        # As the wire delivers them: camelCase names, numbers as floats, enums as values.
        {
            "project": PROJECT,
            "region": "europe-west1",
            "keyGeneration": 2.0,
            "serviceAccountUserScope": "project",
        },
    )
    assert constructed["error"] is None
    args: CloudRunPushPoolArgs = {
        "project": PROJECT,
        "region": "europe-west1",
        "key_generation": 2,
        "service_account_user_scope": ServiceAccountUserScope.PROJECT,
    }
    python = run_program(
        lambda: CloudRunPushPool("ml", args),
        project="ts-program",
        stack="dev",
        config={},
        secret_keys=[],
    )
    from_host = {
        (r["type"], r["name"]): reveal(r["inputs"]) for r in constructed["resources"] if r["custom"]
    }
    from_python = {(r.type, r.name): inputs(r) for r in python.resources if r.custom}
    assert from_host == from_python
    (component,) = [r for r in constructed["resources"] if r["type"].startswith("pushpools:")]
    assert (component["type"], component["name"]) == ("pushpools:index:CloudRunPushPool", "ml")
    assert all(r["parent"] == component["urn"] for r in constructed["resources"] if r["custom"])
    assert python.one("pushpools:gcp:CloudRunPushPool", "ml")  # Python keeps its token
    outputs = constructed["outputs"]
    assert is_secret(outputs["credentialsBlock"])
    block = reveal(outputs["credentialsBlock"])
    assert block["typeSlug"] == "gcp-credentials"
    assert block["templateVariable"] == "credentials"
    assert outputs["templateDefaults"]["region"] == "europe-west1"


def test_construct_refuses_bad_args_naming_the_argument() -> None:
    constructed = construct("pushpools:index:EcsPushPool", "etl", {"region": "eu-west-9"})
    assert constructed["error"].startswith("ComponentInitError")
    assert "args.region: 'eu-west-9' is not an AWS region" in constructed["error"]
    assert [r for r in constructed["resources"] if r["type"] != "pulumi:pulumi:Stack"] == []


def test_the_yaml_example_uses_only_what_the_schema_offers(schema: dict[str, Any]) -> None:
    import yaml

    program = yaml.safe_load((PROJECT_DIR / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["packages"]["pushpools"]
    used = 0
    for name, resource in program["resources"].items():
        if not resource["type"].startswith("pushpools:"):
            continue
        used += 1
        declared = schema["resources"][resource["type"]]
        props = resource.get("properties", {})
        assert set(props) <= set(declared["inputProperties"]), name
        assert set(declared.get("requiredInputs", [])) <= set(props), name
        _uses_only_declared(schema, declared["inputProperties"], props, name)
    assert used >= 2
    outputs = " ".join(str(v) for v in program.get("outputs", {}).values())
    for reference in _references(outputs):
        resource_name, _, output = reference.partition(".")
        declared = schema["resources"][program["resources"][resource_name]["type"]]
        assert output in declared["properties"], reference


def test_the_yaml_example_s_nested_args_reach_the_component() -> None:
    """The ECS pool of examples/yaml, constructed as the engine would for that program:
    its nested camelCase args take effect as the same keys of a stack file."""
    import yaml

    program = yaml.safe_load((PROJECT_DIR / "examples" / "yaml" / "Pulumi.yaml").read_text())
    etl = program["resources"]["etl"]
    constructed = construct(etl["type"], "etl", etl["properties"])
    assert constructed["error"] is None
    (vpc,) = [r for r in constructed["resources"] if r["type"] == "aws:ec2/vpc:Vpc"]
    assert vpc["inputs"]["cidrBlock"] == etl["properties"]["network"]["cidrBlock"]
    (lifecycle,) = [
        r
        for r in constructed["resources"]
        if r["type"] == "aws:ecr/lifecyclePolicy:LifecyclePolicy"
    ]
    rule = json.loads(lifecycle["inputs"]["policy"])["rules"][0]
    assert rule["selection"]["countNumber"] == etl["properties"]["ecr"]["keepLastImages"]


def _uses_only_declared(
    schema: dict[str, Any], declared: dict[str, Any], props: dict[str, Any], where: str
) -> None:
    """Each property is declared, each enum value allowed, nested objects too."""
    assert set(props) <= set(declared), where
    for prop, value in props.items():
        ref = declared[prop].get("$ref", "")
        if not ref.startswith("#/types/"):
            continue
        declared_type = schema["types"][ref[8:]]
        if "enum" in declared_type:
            assert value in {v["value"] for v in declared_type["enum"]}, (where, prop)
        else:
            assert isinstance(value, dict), (where, prop)
            assert set(declared_type.get("required", [])) <= set(value), (where, prop)
            _uses_only_declared(schema, declared_type["properties"], value, f"{where}.{prop}")


def _references(text: str) -> list[str]:
    import re

    return re.findall(r"\$\{([^}]+)\}", text)
