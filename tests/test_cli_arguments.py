"""Every bad argument to `pushpools` is refused with exit 2 and a message naming it: never a
traceback, never "no changes", never a file written over an input.

Each case is (arguments, environment, the text the message must contain). `{tmp}` in an
argument is a fresh folder holding the files the cases need (see `_files`).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from harness import PROJECT_DIR

from pushpools_tools.cli import main

_POOL_ONLY = (
    "config:\n  pushpools:pools:\n"
    "  - {name: c-run, type: cloud-run:push, gcp: {project: acme-data-dev}}\n"
)
_PLAN = {"stack": "dev", "resources": [], "outputs": {}}


def _resource(urn: str, parent: str | None = None, dependencies: tuple[str, ...] = ()) -> dict:
    return {
        "urn": urn,
        "type": "gcp:serviceaccount/account:Account",
        "name": urn,
        "parent": parent,
        "inputs": {},
        "dependencies": list(dependencies),
    }


def _files(tmp: Path) -> None:
    (tmp / "folder").mkdir()
    (tmp / "empty.json").write_text(json.dumps(_PLAN))
    (tmp / "plan.json.gz").write_bytes(gzip.compress(json.dumps(_PLAN).encode()))
    (tmp / "list.json").write_text("[1, 2]")
    (tmp / "other.json").write_text(json.dumps({"name": "not a plan", "version": 3}))
    (tmp / "numbers.json").write_text(json.dumps({"resources": [1, 2]}))
    (tmp / "fields.json").write_text(json.dumps({"resources": [{"urn": 1, "type": "t"}]}))
    (tmp / "broken.json").write_text('{"resources": [')
    (tmp / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    loop = [_resource("a", parent="b"), _resource("b", parent="a")]
    (tmp / "parents.json").write_text(json.dumps({"resources": loop}))
    waits = [_resource("a", dependencies=("b",)), _resource("b", dependencies=("a",))]
    (tmp / "waits.json").write_text(json.dumps({"resources": waits}))
    twice = [_resource("a"), _resource("a")]
    (tmp / "twice.json").write_text(json.dumps({"resources": twice}))
    (tmp / "Pulumi.pool.yaml").write_text(_POOL_ONLY)
    shutil.copy(PROJECT_DIR / "stacks" / "Pulumi.dev.yaml", tmp / "Pulumi.dev.yaml")
    (tmp / "a-file").write_text("")
    (tmp / "Pulumi.other.yaml").write_text(_POOL_ONLY)
    with (tmp / "huge.yaml").open("wb") as huge:  # sparse: no disk space taken
        huge.truncate(64 * 2**20 + 1)


CASES = [
    # The stack to plan.
    (["plan", "--stack-file", "{tmp}/folder"], {}, "{tmp}/folder: is a folder, not a stack file"),
    (["plan", "--stack-file", "{tmp}/none.yaml"], {}, "{tmp}/none.yaml: no such file"),
    (["plan", "--stack-file", "/dev/zero"], {}, "/dev/zero: not a regular file"),
    (["plan", "--stack-file", "{tmp}/huge.yaml"], {}, "{tmp}/huge.yaml: 67,108,865 bytes"),
    (["plan", "--stack", "../dev"], {}, "--stack '../dev': not a stack name"),
    (["plan", "--stack", "dev prod"], {}, "--stack 'dev prod': not a stack name"),
    (["plan", "--stack", "nosuch"], {}, "stacks/Pulumi.nosuch.yaml: no such file"),
    # Flags that do nothing in a mode.
    (["plan", "--stack", "dev", "--markdown"], {}, "--markdown formats a comparison"),
    (["plan", "--stack", "dev", "--json", "--diagram"], {}, "--json prints a plan and does"),
    (
        ["plan", "--diff", "{tmp}/empty.json", "{tmp}/empty.json", "--json"],
        {},
        "--json prints a plan and does nothing with --diff",
    ),
    (
        ["plan", "--diff", "{tmp}/empty.json", "{tmp}/empty.json", "--compare-to", "HEAD"],
        {},
        "--diff compares two plan files and --compare-to the stack at a revision",
    ),
    (
        ["plan", "--stack-file", "{tmp}/Pulumi.pool.yaml", "--compare-to", "HEAD"],
        {},
        "--compare-to needs --stack NAME",
    ),
    # Files given to --diff that are not plans.
    (
        ["plan", "--diff", "{tmp}/folder", "{tmp}/empty.json"],
        {},
        "--diff {tmp}/folder: is a folder",
    ),
    (
        ["plan", "--diff", "{tmp}/empty.json", "{tmp}/none.json"],
        {},
        "{tmp}/none.json: no such file",
    ),
    (["plan", "--diff", "/dev/zero", "{tmp}/empty.json"], {}, "--diff /dev/zero: not a regular"),
    (
        ["plan", "--diff", "{tmp}/plan.json.gz", "{tmp}/empty.json"],
        {},
        "--diff {tmp}/plan.json.gz: is gzip-compressed; decompress it first",
    ),
    (
        ["plan", "--diff", "{tmp}/list.json", "{tmp}/empty.json"],
        {},
        "not a plan written by `pushpools plan --json`: the file holds list",
    ),
    (["plan", "--diff", "{tmp}/other.json", "{tmp}/empty.json"], {}, "no `resources` list"),
    (
        ["plan", "--diff", "{tmp}/empty.json", "{tmp}/numbers.json"],
        {},
        "resources[0] is not an object; resources[1] is not an object",
    ),
    (
        ["plan", "--diff", "{tmp}/fields.json", "{tmp}/empty.json"],
        {},
        "resources[0].urn: missing or not text; resources[0].name: missing or not text",
    ),
    (
        ["plan", "--diff", "{tmp}/broken.json", "{tmp}/empty.json"],
        {},
        "--diff {tmp}/broken.json: not JSON (line 1, column 16: Expecting value)",
    ),
    (
        ["plan", "--diff", "{tmp}/binary.json", "{tmp}/empty.json"],
        {},
        "--diff {tmp}/binary.json: not UTF-8 text",
    ),
    (["plan", "--diff", "{tmp}/parents.json", "{tmp}/empty.json"], {}, "the parents of 'a' loop"),
    (
        ["plan", "--diff", "{tmp}/empty.json", "{tmp}/waits.json", "--diagram"],
        {},
        "waits for itself through its dependencies",
    ),
    (["plan", "--diff", "{tmp}/twice.json", "{tmp}/empty.json"], {}, "'a' is listed twice"),
    # Revisions are never options, and a stack must exist somewhere.
    (
        ["plan", "--stack", "dev", "--compare-to=-x"],
        {},
        "--compare-to '-x': not a revision (none starts with '-')",
    ),
    (
        ["plan", "--stack", "dev", "--compare-to=--output={tmp}/leak.tar"],
        {},
        "--compare-to '--output={tmp}/leak.tar': not a revision",
    ),
    (
        ["plan", "--stack", "dev", "--compare-to", "HEAD:stacks"],
        {},
        "--compare-to 'HEAD:stacks': no such commit in this repository",
    ),
    (
        ["plan", "--stack", "nosuch", "--compare-to", "HEAD"],
        {},
        "--stack nosuch: no stack file stacks/Pulumi.nosuch.yaml in the working tree, nor at "
        "'HEAD'; stacks here: dev, prod",
    ),
    # URLs in the environment.
    (
        ["plan", "--stack-file", "{tmp}/Pulumi.pool.yaml"],
        {"PREFECT_API_URL": "http://::1:4200/api"},
        "PREFECT_API_URL (environment): 'http://::1:4200/api' is not a valid URL: an IPv6 "
        "address must be in brackets",
    ),
    (
        ["plan", "--stack-file", "{tmp}/Pulumi.pool.yaml"],
        {"PREFECT_API_URL": "http://prefect.internal:123456/api"},
        "PREFECT_API_URL (environment): 'http://prefect.internal:123456/api' is not a valid "
        "URL: its port is out of range",
    ),
    (
        ["plan", "--stack-file", "{tmp}/Pulumi.pool.yaml"],
        {"PREFECT_API_URL": "http://admin:hunter2@[::1:4200/api"},
        "'http://***@[::1:4200/api' is not a valid URL: its IPv6 address is not closed",
    ),
    # Where the import file goes.
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "{tmp}/folder"],
        {},
        "--out {tmp}/folder: is a folder; give a file path",
    ),
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "{tmp}/no/such/x.json"],
        {},
        "--out {tmp}/no/such/x.json: the folder {tmp}/no/such does not exist",
    ),
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "{tmp}/a-file/x.json"],
        {},
        "--out {tmp}/a-file/x.json: the folder {tmp}/a-file is not a folder",
    ),
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "{tmp}/Pulumi.dev.yaml"],
        {},
        "--out {tmp}/Pulumi.dev.yaml: is {tmp}/Pulumi.dev.yaml, which this migration reads",
    ),
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "Pulumi.yaml"],
        {},
        "--out Pulumi.yaml: is ",
    ),
    (
        ["migrate", "--stack-file", "{tmp}/Pulumi.dev.yaml", "--out", "{tmp}/Pulumi.other.yaml"],
        {},
        "--out {tmp}/Pulumi.other.yaml: would overwrite a Pulumi project or stack file",
    ),
    (["migrate", "--stack-file", "{tmp}/folder"], {}, "{tmp}/folder: is a folder"),
    (["migrate", "--stack", "a/b"], {}, "--stack 'a/b': not a stack name"),
]


@pytest.mark.parametrize(("argv", "env", "message"), CASES, ids=lambda c: str(c)[:60])
def test_a_bad_argument_exits_2_with_a_message_naming_it(
    argv: list[str],
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _files(tmp_path)
    monkeypatch.chdir(PROJECT_DIR)
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    inputs = {p: _written(p) for p in [*tmp_path.iterdir(), PROJECT_DIR / "Pulumi.yaml"]
              if p.is_file()}  # fmt: skip

    status = main([a.replace("{tmp}", str(tmp_path)) for a in argv])

    out, err = capsys.readouterr()
    assert status == 2
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert out == ""
    assert "Traceback" not in err
    assert "hunter2" not in err
    # Nothing written: no input changed, no file added.
    assert {p: _written(p) for p in inputs} == inputs
    assert sorted(tmp_path.iterdir()) == sorted(
        p for p in [*inputs, tmp_path / "folder"] if p.parent == tmp_path
    )


def _written(path: Path) -> tuple[int, int]:
    """When a file was last written, and its size: any write changes them."""
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def test_the_corpus_of_arguments_is_broad() -> None:
    assert len(CASES) >= 30
