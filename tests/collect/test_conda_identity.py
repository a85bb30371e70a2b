"""conda environments: one identity whatever created them, one finding per root cause (issue 23).

Fixture trees of conda-meta records (tests/collect/data/conda-meta, as conda writes them),
rewritten the way micromamba writes them, with other channel spellings, a private channel's
token, a BLAS swap and a CUDA toolkit upgrade.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from envparity.collect import packages
from envparity.collect.interface import Context
from envparity.comparison import compare as diff
from envparity.model import CondaPackage, Snapshot, fingerprint

DATA = Path(__file__).parent / "data"
V1 = DATA / "snapshot-v1.json"
TOKEN = "tk-0123456789abcdef0123456789abcdef"


def _prefix(tmp_path: Path, name: str, edit: Callable[[Dict[str, Any]], None] = None) -> Path:
    prefix = tmp_path / name
    shutil.copytree(DATA / "conda-meta", prefix / "conda-meta")
    if edit is not None:
        for path in (prefix / "conda-meta").glob("*.json"):
            record = json.loads(path.read_text())
            edit(record)
            path.write_text(json.dumps(record))
    return prefix


def _add(prefix: Path, name: str, version: str, build: str, channel: str = None) -> None:
    record = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "channel": channel or "https://conda.anaconda.org/conda-forge/linux-64",
        "subdir": "linux-64",
        "fn": f"{name}-{version}-{build}.conda",
        "url": f"https://conda.anaconda.org/conda-forge/linux-64/{name}-{version}-{build}.conda",
    }
    (prefix / "conda-meta" / f"{name}-{version}-{build}.json").write_text(json.dumps(record))


def _snapshot(prefix: Path) -> Snapshot:
    ctx = Context()
    found = packages.collect(ctx, path=[], conda_prefix=str(prefix))["conda_packages"]
    assert ctx.errors == []
    base = Snapshot.model_validate_json(V1.read_text())
    snap = base.model_copy(
        update={"schema_version": 3, "conda_packages": [CondaPackage(**p) for p in found]}
    )
    return snap.with_fingerprint()


def _micromamba_1(record: Dict[str, Any]) -> None:
    # micromamba 1.x: the channel's short name, build_string beside build, no conda bookkeeping.
    record["channel"] = "conda-forge"
    record["build_string"] = record["build"]
    for key in ("link", "requested_spec", "extracted_package_dir", "package_tarball_full_path"):
        record.pop(key, None)


def _micromamba_2(record: Dict[str, Any]) -> None:
    # micromamba 2.0: the name, the subdir and the package file, no "channel" URL at all.
    record["channel"] = f"conda-forge/linux-64/{record['fn']}"
    record.pop("link", None)


def _short(record: Dict[str, Any]) -> None:
    record["channel"] = "https://conda.anaconda.org/conda-forge"


@pytest.mark.parametrize("edit", [_micromamba_1, _micromamba_2, _short], ids=lambda f: f.__name__)
def test_same_packages_by_another_tool_or_channel_spelling_one_fingerprint(tmp_path, edit):
    conda = _snapshot(_prefix(tmp_path, "conda"))
    other = _snapshot(_prefix(tmp_path, "other", edit))
    assert fingerprint(conda) == fingerprint(other)
    assert diff(conda, other).findings == []
    assert {p.channel for p in other.conda_packages} == {"conda-forge"}


def test_a_stored_version_2_spelling_is_no_finding_against_version_3(tmp_path):
    new = _snapshot(_prefix(tmp_path, "new"))
    old = new.model_copy(
        update={
            "schema_version": 2,
            "conda_packages": [
                p.model_copy(update={"channel": "https://conda.anaconda.org/conda-forge/linux-64"})
                for p in new.conda_packages
            ],
        }
    )
    assert diff(old, new).findings == []


def test_a_private_channel_token_never_reaches_the_snapshot_or_the_store(tmp_path):
    def private(record: Dict[str, Any]) -> None:
        record["channel"] = f"https://conda.anaconda.org/t/{TOKEN}/acme/linux-64"
        record["url"] = f"https://conda.anaconda.org/t/{TOKEN}/acme/linux-64/{record['fn']}"

    snap = _snapshot(_prefix(tmp_path, "private", private))
    assert {p.channel for p in snap.conda_packages} == {"acme"}
    assert TOKEN not in snap.model_dump_json()
    from envparity.store import open_store

    db = tmp_path / "store.db"
    with open_store(f"sqlite:///{db}") as store:
        store.save(snap)
    assert TOKEN.encode() not in db.read_bytes()


def _blas(prefix: Path, impl: str) -> None:
    for name in ("libblas", "libcblas", "liblapack", "liblapacke"):
        _add(prefix, name, "3.9.0", f"20_linux64_{impl}")
    _add(prefix, "blas", "2.120", impl)


def test_mkl_to_openblas_is_one_root_cause_finding(tmp_path):
    train = _prefix(tmp_path, "train")
    _blas(train, "mkl")
    _add(train, "intel-openmp", "2023.2.0", "h84fe81f_50496")
    serve = _prefix(tmp_path, "serve")
    _blas(serve, "openblas")
    (serve / "conda-meta" / "mkl-2023.2.0-h84fe81f_50496.json").unlink()
    report = diff(_snapshot(train), _snapshot(serve))
    assert [(f.key, f.baseline, f.candidate, f.severity) for f in report.findings] == [
        ("conda:blas", "MKL", "OpenBLAS", "warning")
    ]
    finding = report.findings[0]
    assert "BLAS MKL -> OpenBLAS" in finding.why
    assert sorted(finding.related) == [
        f"package:conda:{n}"
        for n in ("blas", "intel-openmp", "libblas", "libcblas", "liblapack", "liblapacke", "mkl")
    ]


def test_a_cuda_toolkit_upgrade_is_worded_as_versions(tmp_path):
    def newer(record: Dict[str, Any]) -> None:
        if record["name"] == "cudatoolkit":
            record.update(version="12.1.0", build="h7ed1b75_12")

    report = diff(_snapshot(_prefix(tmp_path, "a")), _snapshot(_prefix(tmp_path, "b", newer)))
    (finding,) = report.findings
    assert finding.key == "conda:cudatoolkit"
    assert "cudatoolkit 11.8.0 -> 12.1.0" in finding.why and "major version" in finding.why
    assert "another conda build" not in finding.why


