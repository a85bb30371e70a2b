"""Data and cache directories come from platformdirs: XDG variables honoured when absolute and
ignored when relative (the XDG spec), no home directory reported instead of guessed."""

from __future__ import annotations

import os
import sys

import pytest

from envparity.errors import StoreError
from envparity.paths import candidate_dirs
from envparity.store.url import data_dir


@pytest.fixture
def clean(monkeypatch, tmp_path):
    for name in ("ENVPARITY_HOME", "ENVPARITY_DB_URL", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.mark.skipif(os.name != "posix", reason="XDG directories are a Unix convention")
def test_xdg_data_home_absolute_is_used_relative_is_ignored(clean, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(clean / "xdg-data"))
    assert data_dir() == str(clean / "xdg-data" / "envparity")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")
    assert data_dir() == str(clean / "home" / ".local" / "share" / "envparity")


@pytest.mark.skipif(os.name != "posix", reason="XDG directories are a Unix convention")
def test_xdg_cache_home_absolute_is_used_relative_is_ignored(clean, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(clean / "xdg-cache"))
    expected = clean / "xdg-cache" / "envparity" / "spool"
    assert list(candidate_dirs("spool", os.environ))[0] == str(expected)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    first = list(candidate_dirs("spool", os.environ))[0]
    assert first == str(clean / "home" / ".cache" / "envparity" / "spool")


def test_envparity_home_wins(clean, monkeypatch):
    monkeypatch.setenv("ENVPARITY_HOME", str(clean / "eh"))
    assert data_dir() == str(clean / "eh")
    assert list(candidate_dirs("spool", os.environ))[0] == str(clean / "eh" / "spool")


@pytest.mark.skipif(os.name != "posix", reason="HOME is the POSIX home variable")
def test_a_relative_home_is_no_home(clean, monkeypatch):
    monkeypatch.setenv("HOME", "relative-home")
    with pytest.raises(StoreError, match="no home directory"):
        data_dir()
    dirs = list(candidate_dirs("spool", os.environ))
    assert all(os.path.isabs(d) for d in dirs) and len(dirs) == 1  # the temp directory alone


def test_a_writable_envparity_home_needs_no_user_cache_directory(tmp_path):
    import subprocess
    import sys

    from _support import REPO

    code = (
        "import os, sys; from envparity.paths import candidate_dirs, ensure_dir\n"
        "d = next(c for c in candidate_dirs('spool', os.environ) if ensure_dir(c))\n"
        "print(d, 'platformdirs' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(REPO),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
             "ENVPARITY_HOME": str(tmp_path / "eh")},
    ).stdout.split()
    assert out == [str(tmp_path / "eh" / "spool"), "False"]


@pytest.mark.skipif(sys.platform == "darwin" or os.name != "posix", reason="the XDG rule")
@pytest.mark.parametrize(
    "home, xdg",
    [("/h", None), ("/h", "/x/cache"), ("/h", "rel/cache"), ("/h", ""), ("/h/", "/x/")],
)
def test_the_user_cache_directory_is_the_one_platformdirs_names(home, xdg):
    """The start-up path reads the XDG rule itself rather than importing platformdirs: the
    reference implementation, in a child with that environment, must name the same directory."""
    import json
    import subprocess

    from _support import REPO

    env = {"PATH": "/usr/bin:/bin", "HOME": home, "PYTHONPATH": str(REPO)}
    if xdg is not None:
        env["XDG_CACHE_HOME"] = xdg
    code = (
        "import json, os, platformdirs; from envparity.paths import _user_cache_dir\n"
        "print(json.dumps([_user_cache_dir(os.environ),"
        " platformdirs.user_cache_dir(appname=None, appauthor=False)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), env=env
    )
    assert done.returncode == 0, done.stderr
    ours, reference = json.loads(done.stdout)
    assert os.path.normpath(ours) == os.path.normpath(reference)
