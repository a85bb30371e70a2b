"""Package overlays: a baseline version installed into a temporary directory, never into the
environment under test.

Wheels are downloaded once into the user's cache directory (``pip download --no-deps
--only-binary=:all:``, from ``--find-links``/``--index-url`` or the user's pip configuration) and
each is installed into its own directory (``pip install --no-deps --only-binary=:all:
--target``), so a trial can put any combination of them first on its child's path. pip runs for
the candidate's interpreter (``pip --python``), so the wheels fit it even when it is another
Python than envparity's.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

PIP_TIMEOUT_S = 600.0


@dataclass
class Overlays:
    """The overlay directories of one bisect run, under one temporary directory."""

    python: str
    find_links: Sequence[str] = ()
    index_url: Optional[str] = None
    root: str = ""
    dirs: Dict[str, str] = field(default_factory=dict)  # "name==version" -> directory
    failed: Dict[str, str] = field(default_factory=dict)  # "name==version" -> why
    cache: str = ""

    def __post_init__(self) -> None:
        if not self.root:
            self.root = tempfile.mkdtemp(prefix="envparity-bisect-")
        if not self.cache:
            self.cache = wheel_cache()

    def prepare(self, pins: Sequence[Tuple[str, str]]) -> None:
        """Download and install every ``(name, version)`` not done yet; failures go in
        ``failed`` with pip's reason (the caller reports those differences as not testable)."""
        todo = [(n, v) for n, v in pins if _pin(n, v) not in self.dirs | self.failed]
        if not todo:
            return
        pip = pip_command(self.python)
        if pip is None:
            for n, v in todo:
                self.failed[_pin(n, v)] = (
                    "pip is needed to build overlays: install pip next to envparity or in the "
                    "candidate environment"
                )
            return
        wheels = self._download(pip, todo)

        def install(pin: str, wheel: str) -> Tuple[str, str, Tuple[bool, str, str]]:
            target = os.path.join(self.root, re.sub(r"[^A-Za-z0-9_.-]", "_", pin))
            cmd = [*pip, "install", "--no-deps", "--only-binary=:all:", "--no-index",
                   "--no-compile", "--target", target, wheel]
            return pin, target, _run(cmd)

        jobs = []
        for (name, version), (wheel, why) in zip(todo, wheels):
            if wheel is None:
                self.failed[_pin(name, version)] = why
            else:
                jobs.append((_pin(name, version), wheel))
        # pip's start-up dominates for most wheels: a few at a time.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for pin, target, (ok, why, _) in pool.map(lambda job: install(*job), jobs):
                if ok:
                    self.dirs[pin] = target
                else:
                    self.failed[pin] = f"pip could not install {pin} into an overlay: {why}"

    def _download(
        self, pip: List[str], todo: Sequence[Tuple[str, str]]
    ) -> List[Tuple[Optional[str], str]]:
        """The wheel file of each pin (pip skips one already in the cache), or why not."""
        options = ["--no-deps", "--only-binary=:all:", "--dest", self.cache]
        for link in self.find_links:
            options += ["--find-links", link]
        if self.index_url:
            options += ["--index-url", self.index_url]
        specs = [_pin(n, v) for n, v in todo]
        ok, why, printed = _run([*pip, "download", *options, *specs])
        files = _reported(printed)
        errors: Dict[str, str] = {}
        if not ok and len(specs) > 1:  # one pin pip cannot find fails the call: ask one by one
            for spec in specs:
                one_ok, one_why, one_printed = _run([*pip, "download", *options, spec])
                files += _reported(one_printed)
                if not one_ok:
                    errors[spec] = one_why
        elif not ok:
            errors[specs[0]] = why
        out: List[Tuple[Optional[str], str]] = []
        for (name, version), spec in zip(todo, specs):
            # The file pip reported for this interpreter, not another one's in the same cache.
            wheel = _find_wheel(files, name, version)
            if wheel is None:
                reason = errors.get(spec) or "pip reported no wheel"
                out.append((None, f"no wheel of {spec} for this Python: {reason}"))
            else:
                out.append((wheel, ""))
        return out

    def paths(self, pins: Sequence[Tuple[str, str]]) -> List[str]:
        """The directories of ``pins`` (each must be prepared)."""
        return [self.dirs[_pin(n, v)] for n, v in pins]

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _pin(name: str, version: str) -> str:
    return f"{name}=={version}"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _reported(printed: str) -> List[str]:
    """The wheel paths pip download printed ("Saved PATH", "File was already downloaded PATH")."""
    found = []
    for line in printed.splitlines():
        line = line.strip()
        for prefix in ("Saved ", "File was already downloaded "):
            if line.startswith(prefix) and line.endswith(".whl"):
                found.append(os.path.abspath(line[len(prefix):].strip()))
    return found


def _find_wheel(files: Sequence[str], name: str, version: str) -> Optional[str]:
    """The wheel of ``name==version`` among ``files``."""
    for path in files:
        parts = os.path.basename(path).split("-")
        if len(parts) >= 3 and _norm(parts[0]) == _norm(name) and parts[1] == version:
            return path
    return None


def wheel_cache() -> str:
    """The user's cache directory for downloaded wheels (created when missing)."""
    from ..paths import candidate_dirs, ensure_dir

    for directory in candidate_dirs("wheels", os.environ):
        if ensure_dir(directory):
            return directory
    return tempfile.mkdtemp(prefix="envparity-wheels-")


def pip_command(python: str) -> Optional[List[str]]:
    """How to run pip for ``python``: envparity's own pip with ``--python`` when it has one,
    else the candidate's; None when neither has pip."""
    same = os.path.abspath(python) == os.path.abspath(sys.executable)
    if importlib.util.find_spec("pip") is not None:
        base = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
        return base if same else [*base, "--python", python]
    probe = subprocess.run(
        [python, "-c", "import pip"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    return None


def _run(cmd: List[str]) -> Tuple[bool, str, str]:
    """``(ok, pip's error line, stdout)``."""
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return False, f"pip took longer than {PIP_TIMEOUT_S:.0f} s", ""
    if done.returncode == 0:
        return True, "", done.stdout
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()] or ["no output"]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    return False, (errors[0] if errors else lines[-1]).strip()[:300], done.stdout
