"""The round trip a user relies on: export a real venv, install the export into a fresh venv
from local wheels, snapshot that, and the package diff is empty."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from _stacks import stack_env
from _support import run_cli


def _snapshot(python: Path, out: Path, tmp_path: Path) -> None:
    env = stack_env({"ENVPARITY_HOME": str(tmp_path / "home")})
    result = run_cli("snapshot", "--no-store", "--python", str(python), "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr


def _package_findings(a: Path, b: Path, tmp_path: Path):
    result = run_cli("diff", str(a), str(b), "--format", "json", cwd=str(tmp_path))
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return [f for f in report["findings"] if f["category"] == "package"]


def _pip(*args: str, python: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
         "--no-input", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_tiny_wheels_with_local_labels_round_trip(tmp_path, make_wheel, make_venv):
    wheels = [
        make_wheel("alpha", "1.0"),
        make_wheel("beta-pkg", "2.0+local1"),
        make_wheel("gamma", "0.3.dev1"),
    ]
    source = make_venv("source")
    # By name from a wheel directory, as from an index (a wheel given by path records its file
    # as a direct-URL origin, which is a different install).
    source.pip("install", "--no-index", "--find-links", str(wheels[0].parent),
               "alpha==1.0", "beta-pkg==2.0+local1", "gamma==0.3.dev1")
    base = tmp_path / "base.json"
    _snapshot(source.python, base, tmp_path)

    req = tmp_path / "requirements.txt"
    result = run_cli("export", str(base), "-o", str(req))
    assert result.returncode == 0, result.stderr
    assert "beta-pkg==2.0+local1" in req.read_text().splitlines()

    fresh = make_venv("fresh")
    fresh.pip("install", "--no-index", "--find-links", str(wheels[0].parent), "-r", str(req))
    again = tmp_path / "again.json"
    _snapshot(fresh.python, again, tmp_path)
    assert _package_findings(base, again, tmp_path) == []

    # The lock file resolves every package to the wheel it came from.
    lock = tmp_path / "pylock.toml"
    result = run_cli(
        "export", str(base), "--format", "pylock", "--find-links", str(wheels[0].parent),
        "-o", str(lock),
    )
    assert result.returncode == 0, result.stderr
    if sys.version_info >= (3, 11):
        import tomllib
        from packaging.pylock import Pylock

        parsed = Pylock.from_dict(tomllib.loads(lock.read_text()))
        assert {w.name for p in parsed.packages for w in p.wheels or []} == {
            w.name for w in wheels
        }


@pytest.mark.slow
def test_real_stack_round_trips_through_requirements_and_a_lock(tmp_path, stack_np1, make_venv):
    base = tmp_path / "base.json"
    _snapshot(stack_np1.python, base, tmp_path)
    packages = json.loads(base.read_text())["packages"]
    names = {p["name"] for p in packages}
    assert {"numpy", "scipy", "scikit-learn", "pandas"} <= names
    # envparity and what only it needs (the snapshot's tool packages) are not the model's.
    own = {p["name"] for p in packages if p.get("tool")} | {"envparity"}

    req = tmp_path / "requirements.txt"
    result = run_cli("export", str(base), "-o", str(req))
    assert result.returncode == 0, result.stderr
    assert "numpy==1.26.4" in req.read_text().splitlines()

    # Local wheels: fetched once with pip's configuration, then installed with no index at all.
    wheels = tmp_path / "wheels"
    _pip("download", "--no-deps", "--only-binary", ":all:", "-d", str(wheels), "-r", str(req),
         python=stack_np1.python)
    fresh = make_venv("fresh")
    _pip("install", "--no-index", "--no-deps", "--find-links", str(wheels), "-r", str(req),
         python=fresh.python)
    again = tmp_path / "again.json"
    _snapshot(fresh.python, again, tmp_path)
    assert _package_findings(base, again, tmp_path) == []

    lock = tmp_path / "pylock.toml"
    result = run_cli(
        "export", str(base), "--format", "pylock", "--find-links", str(wheels), "-o", str(lock)
    )
    assert result.returncode == 0, result.stderr
    if sys.version_info >= (3, 11):
        import tomllib
        from packaging.pylock import Pylock

        parsed = Pylock.from_dict(tomllib.loads(lock.read_text()))
        parsed.validate()
        locked = {str(p.name): p for p in parsed.packages}
        assert set(locked) == names - own
        numpy_wheel = (locked["numpy"].wheels or [])[0]
        assert numpy_wheel.path is not None and os.path.isfile(numpy_wheel.path)
