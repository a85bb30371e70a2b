"""Test helpers shared across test packages: tiny wheels, real venvs, the CLI in a child process.

Import as ``from _support import ...`` (not from conftest: a subdirectory's conftest.py would
shadow that name).
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

REPO = Path(__file__).resolve().parent.parent


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    files: Optional[Dict[str, str]] = None,
    requires: Optional[List[str]] = None,
) -> Path:
    """Write a minimal, valid pure-Python wheel for ``name==version`` and return its path."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    for req in requires or []:
        metadata += f"Requires-Dist: {req}\n"
    contents = dict(files or {f"{dist}/__init__.py": f"__version__ = {version!r}\n"})
    contents[f"{info}/METADATA"] = metadata
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: envparity-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record_lines = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record_lines.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record_lines.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = "\n".join(record_lines) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in contents.items():
            zf.writestr(path, text)
    return wheel


class Venv:
    """A real virtualenv built for a test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return next((self.root / "lib").glob("python*/site-packages"))

    def pip(self, *args: str, env: Optional[Dict[str, str]] = None) -> str:
        # The test runner's pip drives the venv (pip --python), so venvs need no pip of their own
        # and build in a fraction of the time.
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                "--disable-pip-version-check",
                "--no-input",
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def install(self, *wheels: Path) -> None:
        self.pip("install", "--no-index", "--no-deps", *map(str, wheels))


def isolated_env(root: Path, home: Path, **overrides: Optional[str]) -> Dict[str, str]:
    """This process's environment for a child envparity: no inherited ENVPARITY_*, ``home`` as
    ENVPARITY_HOME, a private temp directory and user cache under ``root`` (spools and caches stay
    inside the test: other processes on the machine share the real ones). ``overrides``: a value
    sets a variable, None removes it."""
    temp, cache = root / "tmp", root / "user-cache"
    home.mkdir(parents=True, exist_ok=True)
    temp.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.update(
        ENVPARITY_HOME=str(home),
        TMPDIR=str(temp),
        XDG_CACHE_HOME=str(cache),
        PYTHONDONTWRITEBYTECODE="1",
        ENVPARITY_DEFER="0",  # the inline storing these tests freeze (see tests/conftest.py)
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def importtime_split(stderr: str) -> Tuple[Set[str], str]:
    """A ``python -X importtime`` child's stderr as (the top-level names of the modules it
    imported, its other lines)."""
    imported: Set[str] = set()
    rest: List[str] = []
    for line in stderr.splitlines():
        if line.startswith("import time:"):
            if "|" in line:
                imported.add(line.rpartition("|")[2].strip().split(".")[0])
        else:
            rest.append(line)
    return imported, "\n".join(rest)


def run_cli(*args: str, env: Optional[Dict[str, str]] = None, **kwargs: object):
    """Run the installed console script in a real child process (``python -m envparity``)."""
    return subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def create_pg_database(pg_url: str) -> str:
    """Create a new, empty PostgreSQL database on ``pg_url``'s server; its SQLAlchemy URL.

    Tests never write the shared database: each gets one of these (see the ``pg_db`` fixture).
    """
    import uuid

    import sqlalchemy as sa

    name = f"envparity_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(pg_url: str, url: str) -> None:
    """Drop the database :func:`create_pg_database` made (connections and all)."""
    import sqlalchemy as sa

    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        admin.dispose()
