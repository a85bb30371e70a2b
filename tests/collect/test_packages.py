"""Packages: the snapshot's list equals the interpreter's own `pip list`, in real venvs."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Dict, Optional

import pytest
from _support import Venv
from hypothesis import given, settings
from hypothesis import strategies as st

from envparity.collect import packages
from envparity.collect.capture import capture
from envparity.collect.interface import Context
from envparity.collect.packages import normalize


def _pip_list(venv, env=None) -> Dict[str, str]:
    listed = json.loads(venv.pip("list", "--format=json", env=env))
    return {normalize(p["name"]): p["version"] for p in listed}


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def test_matches_pip_list_with_local_labels_and_odd_names(make_venv, make_wheel):
    venv = make_venv()
    venv.install(
        make_wheel("alpha", "1.0"),
        make_wheel("torchish", "2.1.0+cu121"),
        make_wheel("Mixed_Case.Name", "0.3.post1"),
    )
    snap = capture(python=str(venv.python), ctx=Context(environ=_env()))
    found = {p.name: p.version for p in snap.packages}
    assert found == _pip_list(venv, env=_env())
    assert found["torchish"] == "2.1.0+cu121"  # the local label is kept
    assert "mixed-case-name" in found  # PEP 503
    assert all(p.installer == "pip" for p in snap.packages)
    assert snap.shadowed == []
    assert snap.python.prefix == str(venv.root)
    assert snap.collection.interpreter == str(venv.python)


def test_editable_and_vcs_installs_are_marked_and_credentials_stripped(make_venv, make_wheel):
    venv = make_venv()
    venv.install(make_wheel("editme", "0.1"), make_wheel("fromgit", "1.2"))
    site = venv.site_packages
    (site / "editme-0.1.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": "file:///src/editme", "dir_info": {"editable": True}})
    )
    (site / "fromgit-1.2.dist-info" / "direct_url.json").write_text(
        json.dumps(
            {
                "url": "https://deploy:s3cr3tpw@git.example.com/org/fromgit.git",
                "vcs_info": {"vcs": "git", "commit_id": "0123abcd"},
            }
        )
    )
    snap = capture(python=str(venv.python), ctx=Context(environ=_env()))
    by_name = {p.name: p for p in snap.packages}
    assert by_name["editme"].editable is True
    listed = json.loads(venv.pip("list", "--format=json", env=_env()))
    assert any(p.get("editable_project_location") for p in listed if p["name"] == "editme")
    git = by_name["fromgit"]
    assert (git.vcs, git.commit) == ("git", "0123abcd")
    assert "s3cr3tpw" not in snap.model_dump_json()
    assert git.url == "https://***@git.example.com/org/fromgit.git"


def test_shadowed_distribution_is_recorded_as_shadowed(make_venv, make_wheel, tmp_path):
    venv = make_venv()
    venv.install(make_wheel("shady", "1.0"), make_wheel("plain", "3.0"))
    front = tmp_path / "front"
    venv.pip(
        "install",
        "--no-index",
        "--no-deps",
        "--target",
        str(front),
        str(make_wheel("shady", "2.0")),
    )
    env = _env(PYTHONPATH=str(front))
    snap = capture(python=str(venv.python), ctx=Context(environ=env))
    found = {p.name: p.version for p in snap.packages}
    assert found == _pip_list(venv, env=env)
    assert found["shady"] == "2.0"
    assert [(p.name, p.version) for p in snap.shadowed] == [("shady", "1.0")]


def test_same_directory_twice_on_sys_path_is_not_a_shadow(make_venv, make_wheel, tmp_path):
    venv = make_venv()
    venv.install(make_wheel("twice", "1.0"))
    alias = tmp_path / "alias-site"
    alias.symlink_to(venv.site_packages)  # lib64 -> lib, as some distros ship it
    env = _env(PYTHONPATH=str(alias))
    snap = capture(python=str(venv.python), ctx=Context(environ=env))
    assert [p.name for p in snap.packages].count("twice") == 1
    assert snap.shadowed == []


def _dist(site: Path, dirname: str, metadata: bytes | None) -> Path:
    d = site / dirname
    d.mkdir(parents=True)
    if metadata is not None:
        (d / "METADATA").write_bytes(metadata)
    return d


def test_broken_distributions_are_named_and_skipped(tmp_path):
    site = tmp_path / "site"
    _dist(site, "good-1.0.dist-info", b"Metadata-Version: 2.1\nName: good\nVersion: 1.0\n")
    _dist(site, "distro_pkg-1.1build1.dist-info", b"Name: distro-pkg\nVersion: 1.1build1\n")
    no_meta = _dist(site, "nometa-1.0.dist-info", None)
    bad_utf8 = _dist(site, "latin-1.0.dist-info", b"Name: latin\nVersion: 1.0\nSummary: caf\xe9\n")
    no_name = _dist(site, "noname-1.0.dist-info", b"Metadata-Version: 2.1\nVersion: 1.0\n")
    residue = _dist(site, "~ood-0.9.dist-info", b"Name: good\nVersion: 0.9\n")
    ctx = Context(environ={})
    result = packages.collect(ctx, path=[str(site)])
    assert {p["name"]: p["version"] for p in result["packages"]} == {
        "good": "1.0",
        "distro-pkg": "1.1build1",  # not PEP 440, kept as written
    }
    failed = {e["path"]: e["message"] for e in ctx.errors}
    assert set(failed) == {str(no_meta), str(bad_utf8), str(no_name), str(residue)}
    assert "no METADATA" in failed[str(no_meta)]
    assert "not UTF-8" in failed[str(bad_utf8)]
    assert "no Name" in failed[str(no_name)]
    assert "interrupted install" in failed[str(residue)]


def test_broken_distribution_does_not_stop_a_full_capture(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _dist(site, "nometa-1.0.dist-info", None)
    monkeypatch.syspath_prepend(str(site))
    snap = capture(ctx=Context())
    assert any(
        e.probe == "packages" and e.path and "nometa" in e.path for e in snap.collection.errors
    )
    assert len(snap.packages) > 5  # everything else still listed


def test_packages_probe_runs_only_stdlib_in_the_child(make_venv):
    # A venv with nothing in it: the child must not need pydantic, envparity or anything else.
    venv = make_venv()
    snap = capture(python=str(venv.python), ctx=Context(environ=_env()))
    assert snap.packages == []
    assert snap.blas == []  # no NumPy there: no BLAS loaded
    assert [e for e in snap.collection.errors if e.probe in ("packages", "python", "blas")] == []


def _oldest_python() -> Optional[str]:

    candidates = sorted(glob.glob("/root/.pyenv/versions/3.9*/bin/python3.9"))
    candidates += [p for p in (shutil.which("python3.9"), shutil.which("python3.10")) if p]
    for candidate in candidates:
        # pyenv shims exist even where the version is not selected: check it really runs.
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def test_child_probes_run_on_the_oldest_supported_python(make_wheel, tmp_path):

    python = _oldest_python()
    if python is None:
        pytest.skip("no Python 3.9 or 3.10 interpreter on this machine")
    venv_dir = tmp_path / "old"
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv_dir)], check=True)

    venv = Venv(venv_dir)
    # Today's pip no longer installs into 3.9; a pure wheel's install is an unzip.
    with zipfile.ZipFile(make_wheel("oldie", "1.0")) as wheel:
        wheel.extractall(venv.site_packages)
    snap = capture(python=str(venv.python), ctx=Context(environ=_env()))
    assert [(p.name, p.version) for p in snap.packages] == [("oldie", "1.0")]
    assert snap.python.version.startswith(("3.9", "3.10"))
    assert [e for e in snap.collection.errors if e.probe in ("packages", "python", "blas")] == []


def test_a_distribution_without_record_falls_back_to_its_origin_and_says_so(
    make_venv, make_wheel
):
    venv = make_venv()
    venv.install(make_wheel("kept", "1.0"), make_wheel("bare", "2.0"))
    (venv.site_packages / "bare-2.0.dist-info" / "RECORD").unlink()  # as some system packages
    ctx = Context()
    found = packages.collect(ctx, path=[str(venv.site_packages)], conda_prefix="")
    by_name = {p["name"]: p for p in found["packages"]}
    assert by_name["kept"]["content"] and by_name["bare"]["content"] is None
    assert ctx.errors == []  # not a failure: no "incomplete comparison" in a diff
    assert [n for n in ctx.notes if "no RECORD for 1 distribution(s) (bare)" in n]
    assert packages.module_owners([str(venv.site_packages)]) == {"kept": ["kept"]}


# The content identity's line filter as first written (a regular expression), kept here as the
# reference the faster string tests must agree with on every RECORD text.
_REFERENCE_KEEP = re.compile(
    r"^(?!\.\./|/)(?![^\n,]*\.pyc,)"
    r"(?![^/\n]+\.dist-info/(?:INSTALLER|REQUESTED|direct_url\.json|RECORD(?:\.jws|\.p7s)?"
    r"|uv_cache\.json),)[^\n]+$",
    re.M,
)
_RECORD_PIECES = [
    "../", "/", ".", ",", "/", "a", "b.py", ".pyc", "__pycache__/", "x.dist-info", ".dist-info/",
    "INSTALLER", "REQUESTED", "direct_url.json", "RECORD", "RECORD.jws", "RECORD.p7s",
    "uv_cache.json", "sha256=abc", "12", "\n", "\n", "\r\n", "METADATA", "bin/tool",
]  # fmt: skip


@given(st.lists(st.sampled_from(_RECORD_PIECES), max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_content_filter_keeps_exactly_the_lines_the_reference_keeps(text: str) -> None:
    from envparity.collect.packages import content_of

    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    assert content_of(text).lines == sorted(_REFERENCE_KEEP.findall(normalized))


def test_content_filter_on_real_records() -> None:
    """Every RECORD of this interpreter's distributions, filtered as the reference filters."""
    from importlib import metadata

    from envparity.collect.packages import content_of

    seen = 0
    for dist in metadata.distributions():
        text = dist.read_text("RECORD")
        if text:
            seen += 1
            normalized = text.replace("\r\n", "\n").replace("\r", "\n")
            assert content_of(text).lines == sorted(_REFERENCE_KEEP.findall(normalized))
    assert seen > 10


def _unsafe_by_character(value: str):
    """The rule written out character by character (the fast path must agree with it)."""
    if not value:
        return "is empty"
    if value.startswith("-"):
        return "starts with '-' (a command-line option)"
    for char in value:
        if char.isspace():
            return f"holds whitespace ({ascii(char)})"
        if not char.isprintable():
            return f"holds a control character ({ascii(char)})"
    return None


@given(st.text(max_size=12) | st.sampled_from(["numpy", "1.26.4", "a\u00a0b", "a\u2028b", "-x"]))
@settings(max_examples=600, deadline=None)
def test_unsafe_name_check_fast_path_agrees_with_the_rule(value: str) -> None:
    from envparity.distnames import unsafe

    assert unsafe(value) == _unsafe_by_character(value)
