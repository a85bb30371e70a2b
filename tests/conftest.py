"""Shared fixtures: tiny wheels and real virtualenvs, an isolated envparity home, PostgreSQL."""

from __future__ import annotations

import os
import venv
from pathlib import Path
from typing import Callable, Iterator

import pytest
from _support import REPO, Venv, build_wheel, create_pg_database, drop_pg_database, run_cli

__all__ = ["REPO", "Venv", "build_wheel", "run_cli"]

# `envparity run` stores after the server starts by default (a detached writer, see
# envparity.hook.writer); the tests written before that freeze the inline storing, which
# ENVPARITY_DEFER=0 keeps. The deferred path's own tests (tests/hook/test_hook_deferred.py) set 1.
os.environ["ENVPARITY_DEFER"] = "0"


@pytest.fixture
def make_wheel(tmp_path: Path) -> Callable[..., Path]:
    """``make_wheel(name, version, files=None)`` builds a tiny wheel in a temp dir."""

    def make(name: str, version: str, **kwargs: object) -> Path:
        return build_wheel(tmp_path / "wheels", name, version, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_venv(tmp_path: Path) -> Callable[[str], Venv]:
    """``make_venv(name)`` creates a real virtualenv (without pip) under the test's temp dir."""

    def make(name: str = "venv") -> Venv:
        root = tmp_path / name
        venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
        return Venv(root)

    return make


@pytest.fixture
def envparity_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ENVPARITY_HOME and no inherited database URL, for CLI and store tests."""
    home = tmp_path / "envparity-home"
    home.mkdir()
    monkeypatch.setenv("ENVPARITY_HOME", str(home))
    monkeypatch.delenv("ENVPARITY_DB_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The PostgreSQL server's URL from ENVPARITY_TEST_PG_URL; skips (with why) when unset.

    In CI (.ci/run sets CI=true and the variable) a missing server is a failure, not a skip.
    """
    url = os.environ.get("ENVPARITY_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("ENVPARITY_TEST_PG_URL is not set in CI; .ci/run must set it")
        pytest.skip("ENVPARITY_TEST_PG_URL is not set: no PostgreSQL server to test against")
    yield url


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test alone, dropped afterwards."""
    url = create_pg_database(pg_url)
    try:
        yield url
    finally:
        drop_pg_database(pg_url, url)


def _stack(name: str) -> Venv:
    from _stacks import StackUnavailable, build_stack

    try:
        return build_stack(name)
    except StackUnavailable as e:
        if os.environ.get("CI") and os.environ.get("ENVPARITY_TEST_REQUIRE_STACKS"):
            pytest.fail(str(e))
        pytest.skip(f"package index not reachable: {e}")


@pytest.fixture(scope="session")
def stack_np1() -> Venv:
    """Pinned stack 1: numpy 1.26.4, scipy 1.11.4, scikit-learn 1.3.2, pandas 2.0.3 (cached)."""
    return _stack("np1")


@pytest.fixture(scope="session")
def stack_np2() -> Venv:
    """Pinned stack 2: numpy 2.2.6, scipy 1.15.3, scikit-learn 1.6.1, pandas 2.2.3 (cached)."""
    return _stack("np2")


@pytest.fixture(scope="session")
def stack_torch() -> Venv:
    """torch 2.13.0 CPU (cached)."""
    return _stack("torch")
