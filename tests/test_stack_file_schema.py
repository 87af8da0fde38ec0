"""docs/stack-file.schema.json: the JSON Schema editors check stack files with.

It is generated from the config models (`.venv/bin/python -m pushpools_tools.reference`);
every stack file of the repository validates against it, the shipped ones name it for
yaml-language-server, and it refuses what the program refuses wherever a schema can say so,
never a key the program accepts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from harness import PROJECT_DIR
from test_bad_stacks import CORPUS, expectations

from pushpools_tools import reference

SCHEMA_FILE = PROJECT_DIR / "docs" / "stack-file.schema.json"
SHIPPED = sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))
VALID = [
    *SHIPPED,
    *sorted((PROJECT_DIR / "benchmarks" / "stacks").glob("*.yaml")),
    PROJECT_DIR / "tests" / "upgrade" / "stacks" / "Pulumi.registered.yaml",
    PROJECT_DIR / "policy" / "tests" / "stacks" / "Pulumi.keyless.yaml",
    PROJECT_DIR / "tests" / "stacks" / "Pulumi.aci-private.yaml",
]
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
A_POOL = {"name": "c-run", "type": "cloud-run:push", "gcp": {"project": "acme-data-dev"}}
SECRET = {"secure": "v1:Zm9vYmFyYmF6:cXV4cXV4cXV4cXV4cXV4cXV4"}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def problems(validator: jsonschema.Draft7Validator, stack: Any) -> list[list[str | int]]:
    """The path of each problem, from the top of the stack file."""
    return [list(error.absolute_path) for error in validator.iter_errors(stack)]


def _locked_pydantic() -> str:
    lock = (PROJECT_DIR / "uv.lock").read_text()
    return lock.split('name = "pydantic"\nversion = "', 1)[1].split('"', 1)[0]


def _property_paths(node: Any, path: str = "") -> set[str]:
    """Every key the schema describes, as a path through its `properties`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    found.add(f"{path}/{name}")
                    found |= _property_paths(sub, f"{path}/{name}")
            else:
                found |= _property_paths(value, path)
    elif isinstance(node, list):
        for item in node:
            found |= _property_paths(item, path)
    return found


def test_the_schema_file_is_current() -> None:
    import pydantic

    generated = reference.schema_text()
    if _locked_pydantic() == pydantic.VERSION:
        assert SCHEMA_FILE.read_text() == generated, (
            f"{SCHEMA_FILE.name} is stale; run `{reference.COMMAND}`"
        )
    else:
        # Another pydantic (the run on the lowest versions allowed) words a schema its own
        # way; the file is generated with the locked one. It must still describe exactly
        # the keys the models have.
        committed = json.loads(SCHEMA_FILE.read_text())
        assert _property_paths(committed) == _property_paths(json.loads(generated))


def test_the_schema_is_a_draft_7_schema() -> None:
    # yaml-language-server supports JSON Schema draft 7 and below.
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_every_stack_file_of_the_repository_validates(
    path: Path, validator: jsonschema.Draft7Validator
) -> None:
    assert problems(validator, yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_stack_files_name_the_schema_for_editors(path: Path) -> None:
    match = MODELINE.match(path.read_text().splitlines()[0])
    assert match, f"{path.name} does not start with the yaml-language-server modeline"
    assert (path.parent / match[1]).resolve() == SCHEMA_FILE


def test_a_bad_stack_is_refused_at_the_key_that_is_wrong(
    validator: jsonschema.Draft7Validator,
) -> None:
    stack = yaml.safe_load(
        """
        config:
          pushpools:pools:
            - name: c-ecs
              type: ecs:push
              aws: {region: eu-west-1, launch_type: EC2}
              regoin: eu-west-1
          pushpools:prefectApiKey: pnu_plain_text
        """
    )
    found = problems(validator, stack)
    assert ["config", "pushpools:pools", 0] in found  # `regoin`: not a key of a pool
    assert ["config", "pushpools:pools", 0, "aws"] in found  # `EC2`: not a launch type
    assert ["config", "pushpools:prefectApiKey"] in found  # a credential in plain text
    assert len(found) == 3


@pytest.mark.parametrize(
    ("stack", "refused"),
    [
        ({"config": {"pushpools:pools": []}}, True),  # no pool
        ({"config": {"aws:region": "us-east-1"}}, True),  # no pools, and no ESC to hold them
        ({"config": {"pushpools:pools": [A_POOL], "pushpools:labels": SECRET}}, True),
        ({"config": {"pushpools:pools": [A_POOL], "pushpools:modalProdTokenId": "ak-x"}}, True),
        ({"config": {"pushpools:pools": [{**A_POOL, "aws": {"region": "eu-west-1"}}]}}, True),
        ({"config": {"pushpools:pools": [{**A_POOL, "gcp": None}]}}, True),
        # Other namespaces are not ours to check; a pool's own secret keys are secrets.
        ({"config": {"pushpools:pools": [A_POOL], "aws:region": "us-east-1"}}, False),
        ({"config": {"pushpools:pools": [A_POOL], "pushpools:modalProdTokenId": SECRET}}, False),
        # The pools may come from a Pulumi ESC environment.
        ({"environment": ["acme/prefect-prod"]}, False),
        # A Modal or Managed pool may leave its section out.
        ({"config": {"pushpools:pools": [{"name": "m", "type": "prefect:managed"}]}}, False),
    ],
)
def test_what_the_schema_says_of_a_stack_file(
    stack: dict[str, Any], refused: bool, validator: jsonschema.Draft7Validator
) -> None:
    assert bool(problems(validator, stack)) is refused


def test_the_schema_refuses_no_key_the_program_accepts(
    validator: jsonschema.Draft7Validator,
) -> None:
    """In every bad stack file of the corpus, each problem the schema finds is at, under or
    above a key the program names: an editor never flags a key that is right."""
    refused = judged = 0
    for path in CORPUS:
        if any(not key.startswith("pushpools:") for key, _ in expectations(path)):
            # Refused while the file is read (repeated keys, encodings, aliases, ...): the
            # reader's problems, named by line, before any key is judged.
            continue
        judged += 1
        expected = [_path(key) for key, _ in expectations(path)]
        found = problems(validator, yaml.safe_load(path.read_text()))
        refused += bool(found)
        for where in found:
            assert any(_related(where, key) for key in expected), (path.name, where, expected)
    # The schema catches the structural problems: over a third of the corpus once (51 of 138),
    # and, as semantic cases (values, cross-pool rules, secrets) grew, a quarter and more.
    assert refused >= judged // 4


def _path(config_key: str) -> list[str | int]:
    """`pushpools:pools[0].gcp.project` -> the path of that value in the stack file."""
    top, *rest = re.split(r"(?=[.\[])", config_key, maxsplit=1)
    path: list[str | int] = ["config", top]
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", rest[0] if rest else ""):
        path.append(part[0] if part[0] else int(part[1]))
    return path


def _related(a: list[str | int], b: list[str | int]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]
