"""The fault matrix's own PostgreSQL fixture: when a server tool fails (under load ``initdb``
did), the error shows the tool's stderr and nothing is left behind in the temp directory."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from faults_pg import Instance


def _failing_bindir(root: Path) -> str:
    bindir = root / "bin"
    bindir.mkdir()
    initdb = bindir / "initdb"
    initdb.write_text("#!/bin/sh\necho 'initdb: could not create directory: No space left' >&2\n"
                      "exit 1\n")
    initdb.chmod(0o755)
    # As root the tool runs as postgres (runuser): it must be able to reach the script.
    for path in (root, bindir):
        path.chmod(path.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
    return str(bindir)


def test_a_failing_initdb_shows_its_stderr_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a postgres user: the fixture cannot run initdb")
    root = Path(tempfile.mkdtemp(prefix="envparity-fixture-test-"))
    try:
        root.chmod(0o755)
        temp = root / "tmp"  # the instance's directory is made here, where nothing else runs
        temp.mkdir(mode=0o755)
        monkeypatch.setattr(tempfile, "tempdir", str(temp))
        with pytest.raises(RuntimeError) as caught:
            Instance(_failing_bindir(root))
        assert "No space left" in str(caught.value)
        assert "exited 1" in str(caught.value)
        assert os.listdir(temp) == []
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
