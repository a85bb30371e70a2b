"""Store fixtures: a store URL for either dialect (PostgreSQL: a fresh database, ``pg_db``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The writer child processes import store_fixtures by path; so do the tests.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_db"))
