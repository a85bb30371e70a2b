"""The wheel ships the JSON Schemas, the CI recipe and py.typed; the installed
``envparity schema`` and ``envparity recipe`` print them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from _support import REPO


@pytest.mark.slow
def test_the_wheel_ships_schemas_recipe_and_py_typed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("envparity", "migrations", "schemas", "scripts"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), src],
        capture_output=True, text=True, check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("envparity-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "envparity/py.typed",
        "envparity/_data/snapshot.v1.json",
        "envparity/_data/drift-report.v1.json",
        "envparity/_data/ci-drift.sh",
    } <= names

    root = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    site = next((root / "lib").glob("python*/site-packages"))
    (site / "_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-index", "--no-deps", str(wheel)],
        capture_output=True, text=True, check=False,
    )
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # `envparity schema NAME` prints the newest committed version of each document.
    for args, committed in (
        (["schema", "snapshot"], _newest("snapshot")),
        (["schema", "drift-report"], _newest("drift-report")),
        (["schema", "bisect-report"], _newest("bisect-report")),
        (["recipe", "ci-drift"], REPO / "scripts" / "ci-drift.sh"),
    ):
        out = subprocess.run(
            [str(python), "-m", "envparity", *args], capture_output=True, text=True,
            cwd=tmp_path, env=env, check=False,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout == committed.read_text()
    where = subprocess.run(
        [str(python), "-c", "import envparity; print(envparity.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )
    assert where.stdout.startswith(str(root))  # the wheel's copy, not the checkout's


def _newest(name: str) -> Path:
    """The committed schema of ``name`` with the highest version number."""
    files = REPO.glob(f"schemas/{name}.v*.json")
    versions = {int(p.name.split(".v")[1].split(".")[0]): p for p in files}
    return versions[max(versions)]
