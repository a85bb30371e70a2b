"""The two pinned real stacks of DESIGN.md ("Real stacks for tests"), built once and cached.

Each stack is a real virtualenv with real wheels from the package index: NumPy's vendored OpenBLAS,
scipy's own OpenBLAS and scikit-learn's libgomp are where the capture bugs lived. The venv holds
the pinned ML packages plus envparity's runtime dependencies (not envparity itself: tests put the
checkout first with ``PYTHONPATH``, so every mode runs this tree's code), so a test can snapshot it
in-process, through the CLI, with ``--python`` from another interpreter, and through the hook.

Stacks are cached outside the repo (``ENVPARITY_TEST_CACHE``, default ``~/.cache/envparity-tests``)
and reused across runs while their spec is unchanged; a lock file serialises concurrent builders.
Tests must not install into a stack: build a venv of their own for that. When the index cannot be
reached, the fixture skips with the reason pip gave.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List

from _support import REPO, Venv

STACKS: Dict[str, List[str]] = {
    "np1": ["numpy==1.26.4", "scipy==1.11.4", "scikit-learn==1.3.2", "pandas==2.0.3"],
    "np2": ["numpy==2.2.6", "scipy==1.15.3", "scikit-learn==1.6.1", "pandas==2.2.3"],
    # torch 2.13.0 CPU: `pip install torch==2.13.0` takes it from the machine's disk (find-links).
    "torch": ["torch==2.13.0"],
}


def cache_root() -> Path:
    root = os.environ.get("ENVPARITY_TEST_CACHE") or str(Path.home() / ".cache" / "envparity-tests")
    return Path(root)


def _runtime_requirements() -> List[str]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    with open(REPO / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


class StackUnavailable(Exception):
    """The package index could not be reached (or refused a pinned wheel)."""


def stack_env(extra: Dict[str, str] | None = None) -> Dict[str, str]:
    """An environment for running a stack's interpreter with this checkout's envparity first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


def build_stack(name: str) -> Venv:
    """Return the cached venv for stack ``name``, building it first if needed."""
    spec = STACKS[name] + _runtime_requirements()
    tag = hashlib.sha256(
        json.dumps([sys.version_info[:2], spec]).encode()
    ).hexdigest()[:12]
    base = cache_root() / "stacks"
    base.mkdir(parents=True, exist_ok=True)
    target = base / f"{name}-py{sys.version_info[0]}{sys.version_info[1]}-{tag}"
    marker = target / ".complete"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return Venv(target)
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        # The venv is built at its final path (scripts in bin/ embed it), then marked complete.
        venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(target / "bin" / "python"),
                "--disable-pip-version-check",
                "--no-input",
                "install",
                "--only-binary=:all:",
                "--cache-dir",
                str(cache_root() / "pip"),
                *spec,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise StackUnavailable(f"pip could not build stack {name} ({spec[:4]}): {tail}")
        marker.write_text(json.dumps(spec))
        return Venv(target)
