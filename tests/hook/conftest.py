"""Fixtures for the start-up hook and fleet tests: child-process environments, baselines, a fresh
PostgreSQL database per test."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Callable, Dict, Optional

import pytest
from _support import isolated_env
from hook_helpers import envparity_cmd


@pytest.fixture
def hook_env(tmp_path: Path) -> Callable[..., Dict[str, str]]:
    """``hook_env(**overrides)``: this process's environment without ENVPARITY_*, with a private
    ENVPARITY_HOME, user cache and temp directory (so the fallback spools stay inside the test:
    `db flush` also reads the user cache's spool, which other processes on the machine share)."""

    def make(**overrides: Optional[str]) -> Dict[str, str]:
        return isolated_env(tmp_path, tmp_path / "envparity-home", **overrides)

    return make


@pytest.fixture
def write_baseline(tmp_path: Path, hook_env: Callable[..., Dict[str, str]]):
    """``write_baseline(drift=False)``: a snapshot JSON of this interpreter's environment, taken
    by a real ``envparity snapshot`` child; with ``drift`` a package is a major version behind."""
    cache: Dict[str, Path] = {}

    def make(drift: bool = False) -> Path:
        if "plain" not in cache:
            path = tmp_path / "baseline.json"
            done = subprocess.run(
                envparity_cmd("snapshot", "--no-store", "--role", "training", "-o", str(path)),
                env=hook_env(),
                cwd=str(tmp_path / "tmp"),  # not a git checkout, like the hook runs below
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            cache["plain"] = path
        if not drift:
            return cache["plain"]
        from envparity.model import Snapshot

        snap = Snapshot.model_validate_json(cache["plain"].read_text())
        # A package of the environment's, not one only envparity needs (tool packages: no drift).
        victim = next(
            p.name
            for p in snap.packages
            if not p.tool and p.version.split(".")[0].isdigit() and int(p.version.split(".")[0])
        )  # at 1.x or later, so 0.0.1 is a major version behind
        packages = [
            p.model_copy(update={"version": "0.0.1"}) if p.name == victim else p
            for p in snap.packages
        ]
        drifted = snap.model_copy(
            update={"packages": packages, "snapshot_id": uuid.uuid4().hex}
        ).with_fingerprint()
        path = tmp_path / "baseline-drift.json"
        path.write_text(drifted.model_dump_json())
        return path

    return make
