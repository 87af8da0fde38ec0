"""The library installs per cloud: `pushpools[gcp]`, `[aws]`, `[azure]` each bring only
that cloud's SDK (270-360 MB each), and never the tooling. Each extra is installed alone,
from the wheel `pip install` builds, into a fresh environment, and used there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import PROJECT_DIR

SDKS = ("pulumi_gcp", "pulumi_aws", "pulumi_azure_native", "pulumi_azuread")
EXTRAS = {
    "gcp": ("pushpools.components.gcp.pool", {"pulumi_gcp"}),
    "aws": ("pushpools.components.aws.pool", {"pulumi_aws"}),
    "azure": ("pushpools.components.azure.pool", {"pulumi_azure_native", "pulumi_azuread"}),
}
# What a program with the gcp extra alone sees when it declares an ECS pool.
_PROBE = """
import importlib.util, sys
from pushpools.components.config.pool_types import KIND_OF_CLOUD, Cloud, MissingCloudSdkError
importlib.import_module(sys.argv[1])
present = sorted(m for m in {sdks!r} if importlib.util.find_spec(m) is not None)
print("present:", ",".join(present))
print("tools:", importlib.util.find_spec("pushpools_tools") is not None)
other = Cloud.AWS if sys.argv[2] != "aws" else Cloud.GCP
try:
    KIND_OF_CLOUD[other].component_class()
except MissingCloudSdkError as error:
    print("missing:", error)
"""


def _uv() -> str:
    return shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("extras-wheel")
    (built,) = WheelBuilder(str(PROJECT_DIR)).build(directory=str(out), versions=["standard"])
    return Path(built)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_extra_installs_its_cloud_alone(extra: str, wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=300
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--python", str(python), f"{wheel}[{extra}]"],
        check=True,
        timeout=900,
    )
    module, sdks = EXTRAS[extra]
    result = subprocess.run(
        [str(python), "-c", _PROBE.format(sdks=SDKS), module, extra],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert set(lines["present"].split(",")) == sdks
    assert lines["tools"] == "False"
    other = "aws" if extra != "aws" else "gcp"
    assert f"install pushpools[{other}]" in lines["missing"]
