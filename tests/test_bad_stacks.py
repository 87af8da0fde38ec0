"""A corpus of bad stack files, as new users write them: each is refused before anything is
declared, with exactly the problems its header expects (one pass, no false problems), each
naming its key, and no credential from the file echoed.

Each file in tests/bad_stacks/ starts with a comment saying what is wrong, then one
`# expect: <config key>: <text>` line per problem: a problem matches when it starts with
the key and contains the text. A file that Pulumi itself would not read as it stands (a
key given twice, UTF-16, an alias bomb...) is refused in reading, before the config is
checked: its problems are `line <n>: ...` (`# expect: line <n>: <text>`).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from harness import PROJECT_DIR, plan_cli

from pushpools.components.azure import settings as azure_config
from pushpools.components.loader import ConfigError
from pushpools_tools.engine import ProgramRun
from pushpools_tools.plan import run_stack
from pushpools_tools.stackfile import StackFileError, StackSettings, load_stack

CORPUS = sorted((Path(__file__).parent / "bad_stacks").glob("*.yaml"))
# Credentials the files hold in the wrong place; no message may contain them.
CANARIES = ("hunter2", "pnu_canary", "pnb_canary", "ak-canary")
# The files' client-secret dates are judged against this day.
TODAY = date(2026, 11, 25)


# A problem names a config key (`pushpools:labels`, or a misspelt `pushpool:labels`), or
# the line of the stack file it is on.
_NAMED = re.compile(r"^(line \d+|[^\s:]*:[^\s]+): ")


def _text(path: Path) -> str:
    # The corpus holds files in other encodings on purpose; their comments are readable.
    data = path.read_bytes()
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec)
    return data.decode("utf-8", errors="replace")


def expectations(path: Path) -> list[tuple[str, str]]:
    expected = []
    for line in _text(path).splitlines():
        if line.startswith("# expect: "):
            key, _, text = line.removeprefix("# expect: ").partition(": ")
            expected.append((key, text))
    return expected


@pytest.fixture(autouse=True)
def _fixed_day_and_no_prefect_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(azure_config, "today_utc", lambda: TODAY)
    for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"):
        monkeypatch.delenv(name, raising=False)


def test_the_corpus_is_broad() -> None:
    assert len(CORPUS) >= 100
    assert all(expectations(path) for path in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_a_bad_stack_file_is_refused_with_exactly_its_problems(path: Path) -> None:
    problems, message = _refusal(path)
    unmatched = list(expectations(path))
    unexpected = []
    for problem in problems:
        match = next((e for e in unmatched if _matches(problem, *e)), None)
        if match is None:
            unexpected.append(problem)
        else:
            unmatched.remove(match)
    assert (unexpected, unmatched) == ([], []), "\n".join(problems)
    assert all(_NAMED.match(p) for p in problems)
    assert not [c for c in CANARIES if c in message]


def _refusal(path: Path) -> tuple[list[str], str]:
    """The problems a file is refused with, and the whole message; nothing is declared."""
    settings: StackSettings | StackFileError
    try:
        settings = load_stack(PROJECT_DIR, path)
    except StackFileError as error:
        settings = error
    if isinstance(settings, StackFileError):
        assert str(settings).startswith(f"invalid stack file {path} (")
        return settings.problems, str(settings)
    record = ProgramRun(project="pushpools", stack=path.stem)
    with pytest.raises(ConfigError) as caught:
        run_stack(PROJECT_DIR, settings, record=record)
    assert [r for r in record.resources if r.custom] == []
    return caught.value.problems, str(caught.value)


def _matches(problem: str, key: str, text: str) -> bool:
    return problem.startswith(f"{key}: ") and text in problem


@pytest.mark.parametrize(
    "name", ["plain-api-key-registration-off", "url-with-password-where-a-map-belongs"]
)
def test_the_cli_refuses_with_exit_2_and_a_plain_message(name: str) -> None:
    (path,) = [p for p in CORPUS if p.stem.split("-", 1)[1] == name]
    result = plan_cli("--stack-file", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("invalid stack configuration (1 problem):\n  - pushpools:")
    assert "Traceback" not in result.stderr
    assert not [c for c in CANARIES if c in result.stderr]
