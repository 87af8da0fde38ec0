"""The plan reads a stack file value for value as `pulumi up` does.

Pulumi reads stack files with Go's yaml.v3, writes them out and reads them again, and
hands each config value to the program as text (tools/pushpools_tools/stack_yaml.py).
The answers below are what that path gave for each case, computed with yaml.v3 3.0.1
itself (tests/pulumi_yaml/read_stack.go, see docs/verification.md); PyYAML, which the
plan used before, reads most of them differently (YAML 1.1: `yes` is true, `12:30` is
750, `0o17` is text).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from harness import PROJECT_DIR, config_problems

from pushpools.components.loader import ConfigError
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackFileError, load_stack

# (what the file says after `pushpools:v:`, the text the program receives). Each row is a
# scalar that YAML 1.1 and yaml.v3 read differently, or a neighbour that pins a boundary.
AGREEMENT = [
    ("yes", "yes"),
    ("Yes", "Yes"),
    ("on", "on"),
    ("On", "On"),
    ("no", "no"),
    ("off", "off"),
    ("y", "y"),
    ("n", "n"),
    ("12:30", "12:30"),
    ("1:30:00", "1:30:00"),
    ("-12:30", "-12:30"),
    ("0o17", "15"),
    ("017", "15"),
    ("0777", "511"),
    ("08", "8"),
    ("09.5", "9.5"),
    ("1_000", "1000"),
    ("1__0", "10"),
    ("+12", "12"),
    ("0x1F", "31"),
    ("0b101", "5"),
    ("-0b11", "-3"),
    ("1e3", "1000"),
    ("1E3", "1000"),
    ("1.0", "1"),
    ("1.", "1"),
    ("1.5", "1.5"),
    (".5", "0.5"),
    ("-.5", "-0.5"),
    ("1e21", "1e+21"),
    ("1e-7", "1e-7"),
    ("0.1e1_0", "1000000000"),
    ("99999999999999999999", "100000000000000000000"),
    ("18446744073709551615", "18446744073709551615"),
    ("-9223372036854775809", "-9223372036854776000"),
    ("True", "true"),
    ("TRUE", "true"),
    ("tRUE", "tRUE"),
    ("false", "false"),
    ("~", ""),
    ("null", ""),
    ("NULL", ""),
    ("", ""),
    ("2027-01-31", "2027-01-31 00:00:00 +0000 UTC"),
    ("2027-1-2", "2027-01-02 00:00:00 +0000 UTC"),
    ("2027-02-30", "2027-02-30"),
    ("2001-12-14T21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
    ("2001-12-14 21:59:43.10", "2001-12-14 21:59:43.1 +0000 UTC"),
    ("2001-12-14t21:59:43Z", "2001-12-14 21:59:43 +0000 UTC"),
    ("2001-12-14T21:59:43", "2001-12-14T21:59:43"),
    ("=", "="),
    ("<<", "<<"),
    ("0o", "0o"),
    ("_1", "_1"),
    ('"yes"', "yes"),
    ("'0o17'", "0o17"),
    ("!!str 12", "12"),
    ('!!int "12"', "12"),
    ("!!float 1", "1"),
    ("!!binary aGk=", "hi"),
    ("[1, yes, 0o17, 2027-01-31, 1.0]", '[1,"yes",15,"2027-01-31 00:00:00 +0000 UTC",1]'),
    (
        "{a: 1.5, b: 1e6, 1: x, true: y, 2027-01-31: z, yes: w}",
        '{"1":"x","2027-01-31 00:00:00 +0000 UTC":"z","a":1.5,"b":1000000,"true":"y","yes":"w"}',
    ),
    ("{secure: v1:abc}", "[secret: encrypted in the stack file]"),
    ("{n: ~, m: [~]}", '{"m":[null],"n":null}'),
]


def _stack(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(text)
    return path


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    return load_stack(PROJECT_DIR, _stack(tmp_path, text)).config


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(StackFileError) as caught:
        load_stack(PROJECT_DIR, _stack(tmp_path, text))
    return caught.value.problems


@pytest.mark.parametrize(("written", "received"), AGREEMENT, ids=[w for w, _ in AGREEMENT])
def test_a_value_reaches_the_program_as_pulumi_hands_it_over(
    tmp_path: Path, written: str, received: str
) -> None:
    assert _config(tmp_path, f"config:\n  pushpools:v: {written}\n")["pushpools:v"] == received


@pytest.mark.parametrize("written", [".inf", "-.Inf", ".NaN", "[1, .nan]"])
def test_infinity_and_nan_are_refused_as_pulumi_refuses_them(tmp_path: Path, written: str) -> None:
    problems = _problems(tmp_path, f"config:\n  pushpools:v: {written}\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 2: pushpools:v")
    assert "infinity or NaN, which Pulumi cannot pass to a program" in problems[0]


def test_keys_are_read_as_pulumi_reads_them(tmp_path: Path) -> None:
    text = (
        "config:\n"
        "  labels: {yes: a, on: b, 1: c, 1.5: d, ~: e}\n"  # the project's namespace
        "  pushpools:config:prefect: {enabled: false}\n"  # the old spelling of a key
    )
    config = _config(tmp_path, text)
    assert json.loads(config["pushpools:labels"]) == {
        "yes": "a",
        "on": "b",
        "1": "c",
        "1.5": "d",
        "<nil>": "e",
    }
    assert json.loads(config["pushpools:prefect"]) == {"enabled": False}


def test_merges_and_aliases_expand_as_in_yaml_v3(tmp_path: Path) -> None:
    text = (
        "defaults: &defaults {x: 1, y: 2}\n"
        "other: &other {y: 5, z: 6}\n"
        "config:\n"
        "  pushpools:v:\n"
        "    <<: [*defaults, *other]\n"
        "    w: 0\n"
        "  pushpools:w: *other\n"
    )
    config = _config(tmp_path, text)
    # The map's own keys win, then the first merged map: as yaml.v3 merges.
    assert json.loads(config["pushpools:v"]) == {"w": 0, "x": 1, "y": 2, "z": 6}
    assert json.loads(config["pushpools:w"]) == {"y": 5, "z": 6}


# A key given twice, at each depth: each is refused with the line of both.
REPEATED_KEYS = [
    (
        "config:\n  pushpools:labels: {a: b}\nconfig:\n  pushpools:prefect: {enabled: false}\n",
        "line 3: config: given twice in one map (first on line 1)",
    ),
    (
        "config:\n  pushpools:pools: []\n  pushpools:pools: []\n",
        "line 3: pushpools:pools: given twice in one map (first on line 2)",
    ),
    (
        "config:\n  pushpools:pools:\n  - name: a\n    type: ecs:push\n    name: b\n",
        "line 5: pushpools:pools[0].name: given twice in one map (first on line 3)",
    ),
    (
        "config:\n  pushpools:labels:\n    team: a\n    'team': b\n",
        "line 4: pushpools:labels.team: given twice in one map (first on line 3)",
    ),
    (
        "config:\n  pushpools:prefect: {api_url: 'http://a/api', api_url: 'http://b/api'}\n",
        "line 2: pushpools:prefect.api_url: given twice in one map (first on line 2)",
    ),
]


@pytest.mark.parametrize(("text", "problem"), REPEATED_KEYS)
def test_a_key_given_twice_is_refused_at_any_depth(tmp_path: Path, text: str, problem: str) -> None:
    problems = _problems(tmp_path, text)
    assert [p.split("; ")[0] for p in problems] == [problem]
    assert "Pulumi refuses a stack file that repeats a key: keep one of them" in problems[0]


def test_every_repeated_key_of_a_file_is_listed_in_one_pass(tmp_path: Path) -> None:
    text = (
        "config:\n"
        "  pushpools:labels: {a: 1, a: 2}\n"
        "  pushpools:pools:\n"
        "  - {name: x, name: y}\n"
        "  pushpools:labels: {}\n"
    )
    assert [p.split(": given")[0] for p in _problems(tmp_path, text)] == [
        "line 2: pushpools:labels.a",
        "line 4: pushpools:pools[0].name",
        "line 5: pushpools:labels",
    ]


def test_keys_that_are_read_as_one_are_refused(tmp_path: Path) -> None:
    text = "config:\n  pushpools:labels:\n    true: a\n    True: b\n  labels: {}\n"
    assert _problems(tmp_path, text) == [
        "line 4: pushpools:labels.true: `True` and `true` (line 3) are read as one key, and "
        "only one value would be kept: keep one of them (quote a key to keep it as written)",
        "line 5: labels: the same key as `pushpools:labels` on line 2 (a key without a "
        "namespace is in the project's namespace, `pushpools:`), so Pulumi would keep one of "
        "the two at random: keep one",
    ]


BILLION_LAUGHS = (
    "".join(
        f"{a}: &{a} [{', '.join([f'*{b}'] * 10) if b else ', '.join(['lol'] * 10)}]\n"
        for a, b in zip("abcdefghi", [None, *"abcdefgh"], strict=True)
    )
    + "config:\n  pushpools:v: *i\n"
)


def test_aliases_that_explode_are_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, BILLION_LAUGHS)
    assert len(problems) == 1
    assert 'Pulumi refuses it ("document contains excessive aliasing")' in problems[0]


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "config:\n  pushpools:v: &loop [1, *loop]\n")
    assert problems == [
        "line 2: the alias *loop is inside the value anchored as &loop, so that value would "
        "never end; Pulumi refuses it (\"anchor 'loop' value contains itself\"): write the "
        "value out"
    ]


@pytest.mark.parametrize("depth", [99, 100_000])  # with `config:` and the file: 101 levels
def test_nesting_too_deep_is_refused(tmp_path: Path, depth: int) -> None:
    problems = _problems(tmp_path, "config:\n  pushpools:v: " + "[" * depth + "]" * depth + "\n")
    assert problems == [
        "line 2: nested more than 100 levels deep; no stack setting nests deeper than a few "
        "levels (an unclosed `[` or `{` does this): fix the nesting"
    ]


def test_nesting_within_the_bound_is_read(tmp_path: Path) -> None:
    config = _config(tmp_path, "config:\n  pushpools:v: " + "[" * 98 + "]" * 98 + "\n")
    assert json.loads(config["pushpools:v"]) == json.loads("[" * 98 + "]" * 98)


_BOUNDED = """
import resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB of address space
from pushpools.components.loader import ConfigError
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackFileError, load_stack
try:
    load_stack(Path(sys.argv[1]), Path(sys.argv[2]))
except StackFileError as error:
    print(error.problems[-1])
"""


@pytest.mark.parametrize(
    "text",
    [BILLION_LAUGHS, "config:\n  pushpools:v: " + "[" * 1_000_000 + "\n"],
    ids=["aliases", "nesting"],
)
def test_hostile_files_are_refused_within_bounded_memory(tmp_path: Path, text: str) -> None:
    """In a process that may use 1 GiB at most: expanding the aliases (a billion items)
    or walking the nesting would exhaust it; refusing them does not."""
    stack = _stack(tmp_path, text)
    result = subprocess.run(
        [sys.executable, "-c", _BOUNDED, str(PROJECT_DIR), str(stack)],
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not a measure
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("line ")
    assert "Traceback" not in result.stderr
    assert resource.getrlimit(resource.RLIMIT_AS)  # (the limit applied to the child only)


def test_a_misspelt_namespace_is_found_and_the_right_one_is_not(tmp_path: Path) -> None:
    text = (
        "config:\n"
        "  pushpool:labels: {a: b}\n"
        "  Pushpools:labels: {a: b}\n"
        "  push-pools:prefect: {}\n"
        "  pushpols:pools: []\n"
        "  aws:region: eu-west-1\n"
        "  gcp:project: p\n"
        "  prefect:x: y\n"
        "  pushpools:labels: {a: b}\n"
    )
    settings = load_stack(PROJECT_DIR, _stack(tmp_path, text))
    assert [p.split(": ")[0] for p in settings.problems] == [
        "pushpool:labels",
        "Pushpools:labels",
        "push-pools:prefect",
        "pushpols:pools",
    ]
    assert settings.problems[0] == (
        "pushpool:labels: line 2: `pushpool:` is not the `pushpools:` namespace, so the stack "
        "program never reads this key and its value would be silently ignored; did you mean "
        "`pushpools:labels`?"
    )


def test_pulumi_up_refuses_a_misspelt_namespace_too() -> None:
    """`pulumi up` hands the program the config without the file: the stack program
    itself refuses a key in a misspelt namespace, before declaring anything, rather than
    running without the labels (or pools) the user meant to set."""
    pool = {"name": "c-run", "type": "cloud-run:push", "gcp": {"project": "acme-data-dev"}}
    problems = config_problems(
        {"pushpools:pools": [pool], "pushpool:labels": {"team": "data"}, "aws:region": "x"}
    )
    assert problems == [
        "pushpool:labels: `pushpool:` is not the `pushpools:` namespace, so the stack program "
        "never reads this key and its value would be silently ignored; did you mean "
        "`pushpools:labels`?"
    ]


def test_how_a_value_was_read_is_said_only_where_the_problem_shows_it(tmp_path: Path) -> None:
    """A setting's problem says how its value was written and read; a credential written
    as a number is refused without showing it, read or as written."""
    text = (
        "config:\n"
        "  pushpools:pools:\n"
        "  - {name: c-run, type: cloud-run:push, gcp: {project: acme-data-dev}}\n"
        "  pushpools:prefectAuthString: 0o1234567\n"
        "  pushpools:labels: {team: 0o17}\n"
    )
    settings = load_stack(PROJECT_DIR, _stack(tmp_path, text))
    with pytest.raises(ConfigError) as caught:
        run_stack(PROJECT_DIR, settings)
    message = str(caught.value)
    assert "pushpools:labels.team: 15 is not allowed; expected text (line 5: written `0o17`" in (
        message
    )
    assert "pushpools:prefectAuthString: holds a credential but is stored in plain text" in (
        message
    )
    assert "1234567" not in message
    assert str(0o1234567) not in message
