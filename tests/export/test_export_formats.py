"""export's formats on a made-up baseline: what each line says, and the reference validators."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envparity.export import export
from envparity.export.interface import ExportError
from envparity.model import Collection, Package, PlatformInfo, PythonInfo, Snapshot

CAPTURED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _snapshot(packages, snapshot_id="a" * 32):
    return Snapshot(
        snapshot_id=snapshot_id,
        captured_at=CAPTURED,
        role="training",
        packages=packages,
        python=PythonInfo(implementation="CPython", version="3.11.7"),
        platform=PlatformInfo(system="Linux", arch="x86_64"),
        collection=Collection(envparity_version="0.1.0"),
    ).with_fingerprint()


BASELINE = _snapshot(
    [
        Package(name="numpy", version="1.26.4"),
        Package(name="torch", version="2.7.1+cu128"),
        Package(
            name="mylib",
            version="0.3.0",
            vcs="git",
            url="https://github.com/acme/mylib.git",
            commit="0123456789abcdef0123456789abcdef01234567",
        ),
        Package(name="localpkg", version="0.1.0", editable=True, url="file:///src/localpkg"),
        Package(name="envparity", version="0.1.0"),
        Package(name="distro-thing", version="1.1build1"),
    ]
)
LOCKABLE = _snapshot([p for p in BASELINE.packages if p.name != "distro-thing"])


def test_requirements_pin_versions_keep_local_labels_and_write_direct_references():
    text = export(BASELINE, "requirements", ref="fraud-train")
    lines = text.splitlines()
    assert lines[0].startswith("# Exported by envparity") and "fraud-train" in lines[0]
    assert "numpy==1.26.4" in lines
    assert "torch==2.7.1+cu128" in lines  # the build, not just the version
    assert (
        "mylib @ git+https://github.com/acme/mylib.git@0123456789abcdef0123456789abcdef01234567"
        in lines
    )
    assert "localpkg @ file:///src/localpkg" in lines
    assert not any(line.startswith("envparity") for line in lines)  # envparity's own, left out
    # A version pip cannot pin is a comment that says so, never a line pip fails to parse.
    assert "# distro-thing 1.1build1: not a PEP 440 version; pin it by hand" in lines
    from packaging.requirements import Requirement

    for line in lines:
        if line and not line.startswith("#"):
            Requirement(line)  # every requirement line parses as PEP 508


def test_include_tool_keeps_envparity():
    assert "envparity==0.1.0" in export(BASELINE, "requirements", include_tool=True).splitlines()


def test_constraints_hold_only_plain_pins():
    lines = export(BASELINE, "constraints").splitlines()
    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins == ["localpkg==0.1.0", "mylib==0.3.0", "numpy==1.26.4", "torch==2.7.1+cu128"]
    assert any("mylib came from git+https://github.com/acme/mylib.git@" in line for line in lines)


def test_only_drift_keeps_what_the_candidate_must_change():
    candidate = _snapshot(
        [
            Package(name="numpy", version="2.3.5"),
            Package(name="torch", version="2.7.1+cu128"),
            Package(name="localpkg", version="0.1.0", editable=True, url="file:///src/localpkg"),
            Package(name="extra-thing", version="1.0"),
        ],
        snapshot_id="c" * 32,
    )
    text = export(BASELINE, "requirements", candidate=candidate, candidate_ref="serving.json")
    pins = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert pins == [
        "mylib @ git+https://github.com/acme/mylib.git@0123456789abcdef0123456789abcdef01234567",
        "numpy==1.26.4",
    ]
    assert "# Only what serving.json must change to match it" in text
    assert "# Not in the baseline (uninstall to match): extra-thing" in text


def test_cyclonedx_validates_against_the_1_6_schema_with_purls():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = export(BASELINE, "cyclonedx", ref="fraud-train")
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    bom = json.loads(text)
    purls = {c["name"]: c["purl"] for c in bom["components"]}
    assert purls["numpy"] == "pkg:pypi/numpy@1.26.4"
    assert purls["torch"] == "pkg:pypi/torch@2.7.1%2Bcu128"
    assert purls["mylib"].startswith("pkg:pypi/mylib@0.3.0?vcs_url=git%2Bhttps")
    assert "envparity" not in purls
    from packageurl import PackageURL

    assert PackageURL.from_string(purls["torch"]).version == "2.7.1+cu128"
    # Stable: the same baseline twice is the same document.
    assert export(BASELINE, "cyclonedx", ref="fraud-train") == text


def _wheel(directory: Path, name: str, version: str, tag: str = "py3-none-any") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-{tag}.whl"
    path.write_bytes(f"{name} {version} {tag}".encode())
    return path


def _pylock(text: str):
    import tomllib
    from packaging.pylock import Pylock

    lock = Pylock.from_dict(tomllib.loads(text))
    lock.validate()
    return lock


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the test parses TOML with tomllib (3.11+)")
def test_pylock_resolves_wheels_from_find_links_with_hashes(tmp_path):
    wheels = tmp_path / "wheels"
    numpy = _wheel(wheels, "numpy", "1.26.4", "cp311-cp311-manylinux_2_17_x86_64")
    _wheel(wheels, "numpy", "1.26.4", "cp312-cp312-manylinux_2_17_x86_64")  # another Python
    _wheel(wheels, "numpy", "2.0.0", "cp311-cp311-manylinux_2_17_x86_64")  # another version
    _wheel(wheels, "numpy", "1.26.4", "cp311-cp311-macosx_11_0_arm64")  # another platform
    torch = _wheel(wheels, "torch", "2.7.1+cu128", "cp311-cp311-manylinux_2_28_x86_64")
    _wheel(wheels, "torch", "2.7.1+cpu", "cp311-cp311-manylinux_2_28_x86_64")  # another build
    text = export(LOCKABLE, "pylock", find_links=[str(wheels)])
    lock = _pylock(text)
    by_name = {str(p.name): p for p in lock.packages}
    assert set(by_name) == {"numpy", "torch", "mylib", "localpkg"}
    (np_wheel,) = by_name["numpy"].wheels or []
    assert np_wheel.name == numpy.name
    assert np_wheel.path == str(numpy)
    assert np_wheel.hashes == {"sha256": hashlib.sha256(numpy.read_bytes()).hexdigest()}
    (torch_wheel,) = by_name["torch"].wheels or []
    assert torch_wheel.name == torch.name
    assert by_name["mylib"].vcs is not None
    assert by_name["mylib"].vcs.commit_id == "0123456789abcdef0123456789abcdef01234567"
    assert by_name["localpkg"].directory is not None
    assert by_name["localpkg"].directory.editable is True


def test_pylock_names_the_package_it_cannot_resolve(tmp_path):
    wheels = tmp_path / "wheels"
    _wheel(wheels, "numpy", "1.26.4", "cp311-cp311-manylinux_2_17_x86_64")
    with pytest.raises(ExportError) as e:
        export(LOCKABLE, "pylock", find_links=[str(wheels)])
    assert "torch==2.7.1+cu128" in str(e.value)
    assert str(wheels) in str(e.value)
    with pytest.raises(ExportError, match="distro-thing 1.1build1: not a PEP 440 version"):
        export(BASELINE, "pylock", find_links=[str(wheels)])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the test parses TOML with tomllib (3.11+)")
def test_pylock_reads_a_simple_index_and_its_sha256_fragments(tmp_path):
    index = tmp_path / "simple"
    files = tmp_path / "files"
    entries = {}
    for name, version, tag in (
        ("numpy", "1.26.4", "cp311-cp311-manylinux_2_17_x86_64"),
        ("torch", "2.7.1+cu128", "cp311-cp311-manylinux_2_28_x86_64"),
    ):
        wheel = _wheel(files, name, version, tag)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        entries.setdefault(name, []).append((wheel.name, digest))
    for name, items in entries.items():
        (index / name).mkdir(parents=True)
        links = "".join(
            f'<a href="../../files/{f.replace("+", "%2B")}#sha256={d}">{f}</a>' for f, d in items
        )
        (index / name / "index.html").write_text(f"<html><body>{links}</body></html>")
    lock = _pylock(export(LOCKABLE, "pylock", index_urls=[index.as_uri()]))
    wheel = next(p for p in lock.packages if p.name == "torch").wheels[0]  # type: ignore[index]
    assert wheel.url == (files / "torch-2.7.1+cu128-cp311-cp311-manylinux_2_28_x86_64.whl").as_uri()
    assert wheel.hashes["sha256"] == entries["torch"][0][1]


def test_cli_export_writes_the_file_and_rejects_an_unknown_format(tmp_path):
    from envparity.cli import app

    snap = tmp_path / "base.json"
    snap.write_text(LOCKABLE.model_dump_json())
    out = tmp_path / "req.txt"
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(snap), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "numpy==1.26.4" in out.read_text().splitlines()
    bad = runner.invoke(app, ["export", str(snap), "--format", "poetry"])
    assert bad.exit_code == 2
    missing = runner.invoke(
        app, ["export", str(snap), "--format", "pylock", "--find-links", str(tmp_path / "none")]
    )
    assert missing.exit_code == 2
    assert "numpy==1.26.4" in missing.output and "Traceback" not in missing.output


def test_only_drift_of_the_same_wheel_by_another_installer_or_origin_is_empty():
    wheel = "file:///build/wheels/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"
    base = _snapshot(
        [Package(name="numpy", version="1.26.4", installer="pip", url=wheel, content="c" * 64)]
    )
    same = _snapshot(
        [Package(name="numpy", version="1.26.4", installer="uv", content="c" * 64)], "b" * 32
    )
    rebuilt = _snapshot([Package(name="numpy", version="1.26.4", content="d" * 64)], "c" * 32)
    assert not [
        line for line in export(base, "requirements", candidate=same).splitlines()
        if not line.startswith("#")
    ]
    assert f"numpy @ {wheel}" in export(base, "requirements", candidate=rebuilt).splitlines()
