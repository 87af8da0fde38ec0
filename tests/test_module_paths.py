"""The installable library: one top-level module, and module paths that never move.

Pulumi state stores every dynamic resource's provider pickled *by reference*: the module
path and class name of `BlockProvider` and `WorkPoolProvider` are written into the state of
every block and work pool a user has created, and `pulumi refresh` / `pulumi destroy`
import them from there. Renaming or moving either class, or its module, breaks those
commands for every existing stack. These tests pin them: if one fails, do not update the
expected value; keep the old path importable (a re-export) and add a CHANGELOG entry.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from tests.harness import PROJECT_DIR

# (module, class) as recorded in users' state; never change these values.
PINNED_PROVIDERS = [
    ("pushpools.components.prefect.blocks", "BlockProvider"),
    ("pushpools.components.prefect.work_pools", "WorkPoolProvider"),
    ("pushpools.components.prefect.work_queues", "WorkQueueProvider"),
    ("pushpools.components.pause", "PauseProvider"),
    ("pushpools.components.rotation", "RotationProvider"),
]


@pytest.mark.parametrize(("module", "name"), PINNED_PROVIDERS)
def test_the_providers_pickle_to_their_pinned_module_path(module: str, name: str) -> None:
    provider_class = getattr(__import__(module, fromlist=[name]), name)
    raw = base64.b64decode(serialize_provider(provider_class()))
    assert module.encode() in raw
    assert name.encode() in raw
    # By reference: the pickle names the class, it does not carry its code.
    assert b"co_code" not in raw
    assert len(raw) < 300
    assert type(dill.loads(raw)).__module__ == module


def _importable(
    module: str, cwd: Path, pythonpath: str | None = None
) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _component_modules() -> list[str]:
    root = PROJECT_DIR / "components"
    return sorted(
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in root.glob("**/*.py")
    )


@pytest.mark.parametrize(
    ("where", "pythonpath"),
    [("the project folder", None), ("the pushpools folder", "pushpools")],
)
def test_no_component_module_imports_under_a_second_name(
    where: str, pythonpath: str | None
) -> None:
    """From the project folder (where `pulumi up` runs the stack program) or with the
    package folder itself on the path, `components.x` must not import: one name, one copy."""
    probe = """
import importlib, sys
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except ImportError as error:
        assert "pushpools.components" in str(error), error
    else:
        raise SystemExit(f"a second copy imports: {module}")
"""
    modules = [m for m in _component_modules() if m]
    env_path = None if pythonpath is None else str(PROJECT_DIR / pythonpath)
    result = subprocess.run(
        [sys.executable, "-c", probe, "components", *(f"components.{m}" for m in modules)],
        cwd=PROJECT_DIR,
        env={"PATH": "/usr/bin:/bin", **({"PYTHONPATH": env_path} if env_path else {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"from {where}: {result.stdout}{result.stderr}"
    assert _importable("pushpools.components.prefect.blocks", PROJECT_DIR).returncode == 0


def test_no_code_imports_the_components_folder_under_a_generic_name() -> None:
    """`components.x` and `pushpools.components.x` would be two copies of one module, and a
    provider pickled from the first would name a path no installed library has."""
    offenders = []
    for path in _project_python_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("from components", "import components")):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}:{number}: {stripped}")
    assert offenders == []


def _project_python_files() -> Iterator[Path]:
    """The project's own .py files: never those of an environment (.venv, and the
    .venv-* that `./dev test` makes) or of node_modules, which are not even walked."""
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        subfolders[:] = [s for s in subfolders if not s.startswith(".venv") and s != "node_modules"]
        yield from (Path(folder) / f for f in files if f.endswith(".py"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install` / `uv add` builds from this repository."""
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    (built,) = WheelBuilder(str(PROJECT_DIR)).build(directory=str(out), versions=["standard"])
    return Path(built)


def test_the_wheel_installs_one_top_level_module_named_after_the_project(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"pushpools"}
    shipped = {name for name in names if name.startswith("pushpools/components/")}
    expected = {
        "pushpools/components/" + str(path.relative_to(PROJECT_DIR / "components"))
        for path in (PROJECT_DIR / "components").glob("**/*.py")
    }
    assert expected <= shipped
    # The library only: the pushpools command, the offline engine and the repository's CI
    # identities are another distribution (tools/).
    outside_components = {
        name for name in names if name.startswith("pushpools/") and "/components/" not in name
    }
    assert outside_components == {"pushpools/__init__.py"}
    # The checkout's symlink is not packed as a file of its own.
    assert "pushpools/components" not in names


def test_the_installed_wheel_serves_the_pinned_providers(wheel: Path, tmp_path: Path) -> None:
    """Unpacked as pip installs it, away from the checkout: the pinned paths import."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import importlib, sys\n"
        f"for module, name in {PINNED_PROVIDERS!r}:\n"
        "    m = importlib.import_module(module)\n"
        "    getattr(m, name)\n"
        "    print(m.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    files = result.stdout.split()
    assert len(files) == len(PINNED_PROVIDERS)
    assert all(file.startswith(str(site)) for file in files)
