"""A non-editable install migrates: build the wheel, install it in a fresh venv, `db upgrade`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from envparity.store.migrate import HEAD

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_installed_wheel_ships_and_runs_its_migrations(tmp_path: Path) -> None:
    # Build from a copy, so the checkout gets no build/ or egg-info of this test's making.
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("envparity", "migrations"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), src],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("envparity-*.whl")

    # A fresh venv whose only envparity is the wheel; it borrows the dev venv's dependencies
    # through a .pth line (a plain path: the dev venv's editable-install hooks are not run).
    root = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    site = next((root / "lib").glob("python*/site-packages"))
    (site / "_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-index", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ENVPARITY_DB_URL")}
    env["ENVPARITY_HOME"] = str(tmp_path / "home")
    where = subprocess.run(
        [str(python), "-c", "import envparity._migrations as m; print(m.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(site)), where.stdout

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    envparity = str(root / "bin" / "envparity")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [envparity, *args], capture_output=True, text=True, cwd=tmp_path, env=env, check=False
        )

    upgrade = run("db", "upgrade", "--db", url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"upgraded from empty to {HEAD}" in upgrade.stderr
    assert run("db", "current", "--db", url).stdout.startswith(f"{HEAD} (current")
    # The default store migrates itself on first use, from the wheel too.
    snap = run("snapshot", "--role", "ci")
    assert snap.returncode == 0, snap.stderr
    assert "stored in sqlite:///" in snap.stderr
