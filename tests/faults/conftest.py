"""Fixtures for the fault matrix: a PostgreSQL instance of its own, child-process environments,
and the table of what each case observed (written to $ENVPARITY_FAULTS_TABLE when set)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _support import isolated_env  # noqa: E402
from faults_pg import Instance, server_bin  # noqa: E402
from faults_table import ROWS  # noqa: E402


@pytest.fixture(scope="module")
def pg() -> Iterator[Instance]:
    """A running PostgreSQL instance on a free port, migrated; destroyed after the module."""
    bindir = server_bin()
    if bindir is None:
        pytest.skip("no initdb under /usr/lib/postgresql/*/bin or on PATH: cannot start a server")
    instance = Instance(bindir)
    try:
        instance.start()
        from envparity.store import connect

        with connect(instance.url) as store:
            store.upgrade()
        yield instance
    finally:
        instance.destroy()


@pytest.fixture
def env(tmp_path: Path) -> Callable[..., Dict[str, str]]:
    """``env(**overrides)``: no inherited ENVPARITY_*, a private home, temp and user cache, a 2 s
    timeout."""

    def make(**overrides: Optional[str]) -> Dict[str, str]:
        return isolated_env(
            tmp_path, tmp_path / "home", **{"ENVPARITY_DB_TIMEOUT": "2", **overrides}
        )

    return make


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("ENVPARITY_FAULTS_TABLE")
    if not target or not ROWS:
        return
    lines = [
        "| case | expected | observed | captured | stored | spooled | in -o | lost |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in ROWS:
        lines.append(
            "| {case} | {expected} | {observed} | {captured} | {stored} | {spooled} | {output} "
            "| {lost} |".format(**row)
        )
    Path(target).write_text("\n".join(lines) + "\n")
