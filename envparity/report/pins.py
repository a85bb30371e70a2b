"""Where a package is pinned in the working tree: the file and line a GitHub annotation points at.

:func:`find_pins` reads the usual dependency files at the top of a directory and one level down
(``requirements*.txt``, ``pylock.toml``/``pylock.*.toml``, ``uv.lock``, ``pyproject.toml``) and
maps each package name (normalized as PEP 503 does) to the first ``(path, line)`` that names it.
Files are read line by line, not parsed as TOML, because a TOML parser loses line numbers; a file
that cannot be read is skipped (an annotation without a file is still an annotation).
"""

from __future__ import annotations

import os
import re
from typing import Dict, Iterator, List, Optional, Tuple

Pin = Tuple[str, int]  # (path relative to the searched directory, 1-based line)

# Searched in this order: the most exact pins first, pyproject's ranges last.
_PATTERNS = (
    re.compile(r"^requirements.*\.txt$"),
    re.compile(r"^pylock(\..+)?\.toml$"),
    re.compile(r"^uv\.lock$"),
    re.compile(r"^pyproject\.toml$"),
)
_MAX_BYTES = 4 * 1024 * 1024  # a dependency file larger than this is not one
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_QUOTED = re.compile(r"\"([^\"\n]+)\"|'([^'\n]+)'")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
_KEY_NAME = re.compile(r"^\s*name\s*=\s*[\"']([^\"']+)[\"']")
_DEPENDENCY_KEY = re.compile(r"^\s*[\"']?([A-Za-z0-9_.-]*dependencies|requires)[\"']?\s*=\s*\[")
_ARRAY_KEY = re.compile(r"^\s*[\"']?([A-Za-z0-9][A-Za-z0-9_.-]*)[\"']?\s*=\s*\[")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}

__all__ = ["Pin", "find_pins", "normalize"]


def normalize(name: str) -> str:
    """A package name as PEP 503 compares it: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _candidates(root: str) -> List[str]:
    """Dependency files at the top of ``root`` and one directory down, in search order."""
    found: List[Tuple[int, int, str]] = []

    def scan(directory: str, depth: int) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            path = os.path.join(directory, name)
            for rank, pattern in enumerate(_PATTERNS):
                if pattern.match(name) and os.path.isfile(path):
                    found.append((depth, rank, os.path.relpath(path, root)))
            if depth == 0 and name not in _SKIP_DIRS and not name.startswith("."):
                if os.path.isdir(path) and not os.path.islink(path):
                    scan(path, 1)

    scan(root, 0)
    return [path for _, _, path in sorted(found)]


def _requirement_name(text: str) -> Optional[str]:
    """The package a requirement string names (``numpy==1.26.4``, ``torch[cuda]>=2``), or None
    for an option line (``-r other.txt``), a URL or a comment."""
    text = text.split("#", 1)[0].strip()
    if not text or text.startswith(("-", "/", ".")) or "://" in text.split("@")[0]:
        return None
    match = _NAME.match(text)
    return match.group(1) if match else None


def _requirements(lines: List[str]) -> Iterator[Tuple[str, int]]:
    for number, line in enumerate(lines, 1):
        name = _requirement_name(line)
        if name:
            yield name, number


def _lock(lines: List[str], table: str) -> Iterator[Tuple[str, int]]:
    """``uv.lock`` (``[[package]]``) and ``pylock.toml`` (``[[packages]]``): each entry's
    ``name = "..."`` line."""
    current = ""
    for number, line in enumerate(lines, 1):
        header = _TABLE.match(line)
        if header:
            current = header.group(1)
            continue
        if current == table:
            match = _KEY_NAME.match(line)
            if match:
                yield match.group(1), number


def _pyproject(lines: List[str]) -> Iterator[Tuple[str, int]]:
    """Requirement strings in ``dependencies``/``optional-dependencies``/``dependency-groups``
    arrays, and Poetry's ``[tool.poetry.dependencies]`` keys."""
    table, in_array = "", False
    for number, line in enumerate(lines, 1):
        code = line.split("#", 1)[0]
        header = _TABLE.match(code)
        if header and not in_array:
            table = header.group(1)
            continue
        groups = table.endswith(("optional-dependencies", "dependency-groups"))
        poetry = "poetry" in table and table.endswith("dependencies")
        if not in_array and (_DEPENDENCY_KEY.match(code) or (groups and _ARRAY_KEY.match(code))):
            in_array = True
            code = code.split("=", 1)[1]
        if in_array:
            for match in _QUOTED.finditer(code):
                name = _requirement_name(match.group(1) or match.group(2))
                if name:
                    yield name, number
            if "]" in code:
                in_array = False
        elif poetry:
            key = _ARRAY_KEY.match(code) or re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=", code)
            if key and key.group(1) != "python":
                yield key.group(1), number


def _entries(path: str, lines: List[str]) -> Iterator[Tuple[str, int]]:
    name = os.path.basename(path)
    if name.endswith(".txt"):
        return _requirements(lines)
    if name == "uv.lock":
        return _lock(lines, "package")
    if name.startswith("pylock"):
        return _lock(lines, "packages")
    return _pyproject(lines)


def find_pins(root: Optional[str] = None) -> Dict[str, Pin]:
    """Each package named in ``root``'s dependency files (default: the current directory) ->
    the first file and line that names it, keyed by :func:`normalize`'d name."""
    root = root or os.getcwd()
    pins: Dict[str, Pin] = {}
    for relative in _candidates(root):
        try:
            with open(os.path.join(root, relative), encoding="utf-8", errors="replace") as f:
                text = f.read(_MAX_BYTES + 1)
        except OSError:
            continue
        if len(text) > _MAX_BYTES:
            continue
        for name, line in _entries(relative, text.splitlines()):
            pins.setdefault(normalize(name), (relative.replace(os.sep, "/"), line))
    return pins
