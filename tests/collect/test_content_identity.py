"""One environment, one fingerprint, however it was installed (issue 23, schema 3).

Real wheels from the package index: numpy 1.26.4 (it has a console script, f2py, and vendored
shared libraries) installed by pip from the index, by uv from the same index, and by pip from a
local copy of the same wheel file (what a multi-stage Docker build does). Each venv is snapshot
through the CLI with ``--python``; the snapshots must share one fingerprint and diff to nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List

import pytest
from _stacks import stack_env
from _support import Venv, run_cli

from envparity.collect import packages
from envparity.collect.interface import Context
from envparity.drift.engine import findings
from envparity.export.sources import pip_configuration

NUMPY = "numpy==1.26.4"


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not os.path.exists(found):
        pytest.fail("uv is not installed: it is in envparity's test extra (pip install -e .[test])")
    return found


def _run(cmd: List[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        if "No matching distribution" in result.stderr or "not found" in tail:
            pytest.skip(f"the package index has no {NUMPY}: {tail}")
        raise AssertionError(f"{cmd[:4]} failed:\n{result.stderr}")


def _venv(root: Path) -> Venv:
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    return Venv(root)


def _pip(python: Path, *args: str) -> None:
    _run([sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
          "--no-input", *args])


def _snapshot(python: Path, out: Path, home: Path) -> Dict:
    env = stack_env({"ENVPARITY_HOME": str(home)})
    result = run_cli(
        "snapshot", "--no-store", "--python", str(python), "-o", str(out), env=env,
        cwd=str(out.parent),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def installs(tmp_path_factory) -> Dict[str, Dict]:
    """numpy 1.26.4 by pip from the index, by uv from the index, and by pip from a wheel file."""
    root = tmp_path_factory.mktemp("installs")
    find_links, index_urls = pip_configuration()
    pip_index = _venv(root / "pip-index")
    _pip(pip_index.python, "install", "--only-binary", ":all:", NUMPY)

    uv_index = _venv(root / "uv-index")
    uv_args = [f"--index-url={u}" for u in index_urls[:1]]
    uv_args += [f"--extra-index-url={u}" for u in index_urls[1:]]
    uv_args += [f"--find-links={d}" for d in find_links]
    _run([_uv(), "pip", "install", "--quiet", "--python", str(uv_index.python),
          "--cache-dir", str(root / "uv-cache"), "--only-binary", ":all:", *uv_args, NUMPY])

    wheels = root / "wheels"
    _pip(pip_index.python, "download", "--no-deps", "--only-binary", ":all:", "-d", str(wheels),
         NUMPY)
    (wheel,) = wheels.glob("numpy-*.whl")
    pip_file = _venv(root / "pip-file")
    _pip(pip_file.python, "install", "--no-deps", str(wheel))

    home = root / "home"
    snaps = {
        name: _snapshot(v.python, root / f"{name}.json", home)
        for name, v in (("pip-index", pip_index), ("uv-index", uv_index), ("pip-file", pip_file))
    }
    snaps["_wheel"] = {"path": str(wheel)}
    return snaps


def _numpy(snap: Dict) -> Dict:
    return next(p for p in snap["packages"] if p["name"] == "numpy")


def test_installs_really_differ_in_installer_and_origin(installs):
    # The premise: the three venvs are recorded as installed differently.
    assert _numpy(installs["pip-index"])["installer"] == "pip"
    assert _numpy(installs["uv-index"])["installer"] == "uv"
    assert _numpy(installs["pip-file"])["url"] == Path(installs["_wheel"]["path"]).as_uri()
    assert _numpy(installs["pip-index"])["url"] is None


@pytest.mark.parametrize("other", ["uv-index", "pip-file"])
def test_same_wheel_any_installer_or_origin_one_fingerprint_no_findings(installs, other):
    base, cand = installs["pip-index"], installs[other]
    assert _numpy(base)["content"] and _numpy(base)["content"] == _numpy(cand)["content"]
    assert base["fingerprint"] == cand["fingerprint"]
    items, _ = findings(base, cand)
    assert items == []


def test_content_digest_leaves_out_installer_files_bytecode_and_scripts(installs):
    record = next(
        Path(_numpy(installs["pip-index"])["location"]).glob("numpy-1.26.4.dist-info")
    ) / "RECORD"
    text = record.read_text()
    assert "../../../bin/f2py" in text and ".pyc," in text and "INSTALLER," in text
    content = packages.content_of(text)
    assert content.digest == _numpy(installs["pip-index"])["content"]
    assert not [line for line in content.lines if line.startswith("../")]
    assert not [line for line in content.lines if ".pyc," in line]
    assert "numpy-1.26.4.dist-info/INSTALLER" not in "".join(content.lines)
    assert packages.modules_of(content.lines) == ["numpy"]


def test_an_edited_file_is_one_finding_that_names_it(installs, tmp_path):
    base = installs["pip-index"]
    location = Path(_numpy(base)["location"])
    record = location / "numpy-1.26.4.dist-info" / "RECORD"
    lines = record.read_text().splitlines()
    # Another build of the same version: two files with other bytes (hashes) in its RECORD.
    edited = [
        line.replace("sha256=", "sha256=X", 1)
        if line.startswith(("numpy/core/_multiarray_umath", "numpy/version.py"))
        else line
        for line in lines
    ]
    other = packages.content_of("\n".join(edited))
    packages.RECORDS.setdefault(other.digest, other.lines)
    packages.RECORDS.setdefault(
        _numpy(base)["content"], packages.content_of("\n".join(lines)).lines
    )
    cand = json.loads(json.dumps(base))
    _numpy(cand)["content"] = other.digest
    items, _ = findings(base, cand)
    assert [(f["category"], f["key"]) for f in items] == [("package", "numpy.content")]
    why = items[0]["why"]
    assert "2 file(s) differ" in why and "numpy/version.py" in why
    assert "numpy/core/_multiarray_umath" in why


def test_module_owners_come_from_the_same_pass(installs):
    site = str(Path(_numpy(installs["uv-index"])["location"]))
    owners = packages.module_owners([site])
    assert owners["numpy"] == ["numpy"]
    data = packages.collect(Context(), path=[site], conda_prefix="")
    assert [p["name"] for p in data["packages"]] == ["numpy"]


# --- export reproduces what it recorded ---------------------------------------------------------


def _export(snap: Path, *args: str) -> str:
    result = run_cli("export", str(snap), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("origin", ["pip-file", "uv-index"])
def test_export_install_snapshot_round_trip_has_no_package_finding(installs, origin, tmp_path):
    snap = tmp_path / "base.json"
    snap.write_text(json.dumps(installs[origin]))
    text = _export(snap)
    wheel = Path(installs["_wheel"]["path"])
    if origin == "pip-file":
        # As `pip freeze` writes it: the file it was installed from, not a version to look up.
        assert f"numpy @ {wheel.as_uri()}" in text.splitlines()
    else:
        assert NUMPY in text.splitlines()
    req = tmp_path / "requirements.txt"
    req.write_text(text)
    fresh = _venv(tmp_path / "fresh")
    _pip(fresh.python, "install", "--only-binary", ":all:", "-r", str(req))
    again = _snapshot(fresh.python, tmp_path / "again.json", tmp_path / "home")
    items, _ = findings(installs[origin], again)
    assert [f for f in items if f["category"] == "package"] == []
    assert again["fingerprint"] == installs[origin]["fingerprint"]


def test_export_with_find_links_pins_a_local_file_by_version(installs, tmp_path):
    snap = tmp_path / "base.json"
    snap.write_text(json.dumps(installs["pip-file"]))
    wheels = str(Path(installs["_wheel"]["path"]).parent)
    text = _export(snap, "--find-links", wheels)
    assert NUMPY in text.splitlines()
    assert "file://" not in text
    assert f"--find-links {wheels}" in text
