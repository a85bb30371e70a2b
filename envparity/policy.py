"""The user's drift policy: what to ignore, which severities to change, and when to fail.

A policy lives in ``[tool.envparity]`` of the project's pyproject.toml, or in a TOML file given
with ``--policy`` (top-level keys, or a ``[tool.envparity]`` table)::

    [tool.envparity]
    fail_on = "warning"                    # info | warning | error | never
    ignore = ["package:pip", "gpu:*"]      # globs on "category:key"; "gpu" alone means "gpu:*"

    probes = ["mypkg.parity"]              # modules that register parity probes on import

    [tool.envparity.severity]
    "package:numpy" = "error"              # a key (glob allowed)...
    blas = "info"                          # ...or a whole category; "ignore" drops it

An invalid policy is a :class:`~envparity.errors.BadInput` naming the file, the line and the key.
"""

from __future__ import annotations

import os
import re
import sys
from fnmatch import fnmatchcase
from typing import Any, Callable, Dict, List, Literal, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .drift.severity import FAIL_ON, OVERRIDES
from .errors import BadInput
from .model import FailOn, Finding

SeverityOverride = Literal["info", "warning", "error", "ignore"]

_KEYS = ("fail_on", "ignore", "severity", "probes")
_FAIL_ON = FAIL_ON
_OVERRIDES = OVERRIDES
_WARNED: set = set()


def _normalize(pattern: str) -> str:
    """``category:key`` with the category lower-cased and package names PEP 503 normalized."""
    category, sep, key = pattern.partition(":")
    category = category.strip().lower()
    if not sep:
        return f"{category}:*"
    if category == "package":
        # Findings name packages by their PEP 503 name, so "Ruamel.YAML" must match "ruamel-yaml".
        key = re.sub(r"[-_.]+", "-", key).lower()
    return f"{category}:{key}"


def _specificity(pattern: str) -> Tuple[int, int]:
    # An exact key beats a glob, and a longer literal part beats a shorter one, so
    # "package:torch" wins over "package:*" whichever order the file lists them in.
    wildcard = any(c in pattern for c in "*?[")
    literal = len(re.sub(r"[*?\[\]]", "", pattern))
    return (0 if wildcard else 1, literal)


class Policy(BaseModel):
    """Ignore globs, severity overrides and the fail-on threshold applied to a drift report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_on: FailOn = "error"
    ignore: List[str] = Field(
        default_factory=list, description='Globs on "category:key", e.g. "package:pip", "gpu:*".'
    )
    severity: Dict[str, SeverityOverride] = Field(
        default_factory=dict, description='"category:key" glob or category -> severity or ignore.'
    )
    probes: List[str] = Field(
        default_factory=list,
        description="Modules that call envparity.register_probe on import (parity probes).",
    )
    # Where the policy was read from (for messages); None for the default policy.
    source: Optional[str] = None
    _compiled: Optional[Tuple[List[str], List[Tuple[str, str]]]] = PrivateAttr(None)

    def _patterns(self) -> Tuple[List[str], List[Tuple[str, str]]]:
        cached = self._compiled
        if cached is None:
            ignore = [_normalize(p) for p in self.ignore]
            overrides: List[Tuple[str, str]] = sorted(
                ((_normalize(p), str(s)) for p, s in self.severity.items()),
                key=lambda item: _specificity(item[0]),
                reverse=True,
            )
            cached = (ignore, overrides)
            # Normalized once: apply() runs for every finding of reports with thousands of them.
            self._compiled = cached
        return cached

    def decider(self) -> Optional[Callable[[str, str, str], Optional[str]]]:
        """:meth:`decide` with the patterns compiled once, or None when the policy changes no
        finding (the engine then skips it: thousands of findings, no call each)."""
        ignore, overrides = self._patterns()
        if not ignore and not overrides:
            return None

        def decide(category: str, key: str, severity: str) -> Optional[str]:
            target = f"{category}:{key}"
            if any(fnmatchcase(target, p) for p in ignore):
                return None
            for pattern, override in overrides:
                if fnmatchcase(target, pattern):
                    return None if override == "ignore" else override
            return severity

        return decide

    def decide(self, category: str, key: str, severity: str) -> Optional[str]:
        """The severity a finding ``category:key`` gets, or None when the policy ignores it.

        The drift engine calls this on plain findings (no pydantic per finding).
        """
        ignore, overrides = self._patterns()
        if not ignore and not overrides:
            return severity
        target = f"{category}:{key}"
        if any(fnmatchcase(target, p) for p in ignore):
            return None
        for pattern, override in overrides:
            if fnmatchcase(target, pattern):
                return None if override == "ignore" else override
        return severity

    def apply(self, finding: Finding) -> Optional[Finding]:
        """The finding with its severity overridden, or None when the policy ignores it."""
        severity = self.decide(finding.category, finding.key, finding.severity)
        if severity is None:
            return None
        if severity != finding.severity:
            return finding.model_copy(update={"severity": severity})
        return finding


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib
    return tomllib


def _line_of(text: str, key: str, after: int = 0) -> Optional[int]:
    """The 1-based line where ``key`` is assigned, searching from line ``after``."""
    k = re.escape(key)
    pattern = re.compile(r"^\s*(?:\"" + k + r"\"|'" + k + r"'|" + k + r")\s*=")
    for number, line in enumerate(text.splitlines()[after:], start=after + 1):
        if pattern.match(line):
            return number
    return None


def _table_line(text: str, table: str) -> int:
    dotted = re.escape(table).replace(r"\.", r"\s*\.\s*")
    header = re.compile(r"^\s*\[\s*" + dotted + r"\s*\]")
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            return number
    return 0


def _where(path: str, text: str, table: str, key: str, subtable: str = "") -> str:
    """``FILE line N: [table] key``: where a bad policy value is, as precisely as known."""
    full = ".".join(part for part in (table, subtable) if part)
    line = _line_of(text, key, _table_line(text, full) if full else 0)
    if line is None and subtable:
        # An inline table (severity = {...}) or a dotted key: point at the parent's key.
        line = _line_of(text, subtable, _table_line(text, table) if table else 0)
    at = f" line {line}" if line else ""
    shown = f" [{full}]" if full else ""
    return f"{path}{at}:{shown} {key}"


def policy_from_mapping(
    data: Dict[str, Any], *, path: str, text: str = "", table: str = ""
) -> Policy:
    """Validate a parsed policy table; every problem is a BadInput naming the line and key."""
    for key in data:
        if key not in _KEYS:
            # A warning, not an error: an older envparity in a serving image must still accept
            # the pyproject of a newer one.
            warning = (
                f"envparity: warning: {_where(path, text, table, key)}: unknown policy key, "
                f"ignored; known keys: {', '.join(_KEYS)}\n"
            )
            if warning not in _WARNED:  # a command may read its policy twice: say it once
                _WARNED.add(warning)
                sys.stderr.write(warning)
    probes = data.get("probes", [])
    if not isinstance(probes, list) or not all(isinstance(m, str) and m for m in probes):
        raise BadInput(
            f"{_where(path, text, table, 'probes')}: expected a list of module names, e.g. "
            '["mypkg.parity"]'
        )
    fail_on = data.get("fail_on", "error")
    if fail_on not in _FAIL_ON:
        raise BadInput(
            f"{_where(path, text, table, 'fail_on')} = {fail_on!r}: "
            f"expected one of {', '.join(_FAIL_ON)}"
        )
    ignore = data.get("ignore", [])
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list) or not all(isinstance(p, str) and p for p in ignore):
        raise BadInput(
            f"{_where(path, text, table, 'ignore')}: expected a list of "
            'globs on "category:key", e.g. ["package:pip", "gpu:*"]'
        )
    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        raise BadInput(
            f"{_where(path, text, table, 'severity')}: expected a table, e.g. "
            '[tool.envparity.severity] "package:numpy" = "error"'
        )
    for key, value in severity.items():
        if value not in _OVERRIDES:
            raise BadInput(
                f"{_where(path, text, table, key, 'severity')} = {value!r}: "
                f"expected one of {', '.join(_OVERRIDES)}"
            )
    return Policy(
        fail_on=fail_on, ignore=ignore, severity=severity, probes=probes, source=path
    )


def _read(path: str) -> Tuple[str, Dict[str, Any]]:
    from .inputs import parse, read_text

    tomllib = _toml()
    text = read_text(path, "policy file")
    try:
        return text, parse(text, tomllib.loads, path, "policy file")
    except tomllib.TOMLDecodeError as e:
        # The message carries "(at line N, column M)": that is the line to fix.
        raise BadInput(f"{path}: invalid TOML: {e}; fix that line") from None


def find_pyproject(cwd: str = ".") -> Optional[str]:
    """The nearest pyproject.toml with a ``[tool.envparity]`` table, from ``cwd`` upward (as ruff
    finds its settings), so a command gives the same verdict from any directory of the project."""
    directory = os.path.abspath(cwd)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as f:
                    has_table = b"tool.envparity" in f.read()
            except OSError:
                has_table = False
            if has_table:
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_policy(path: Optional[str] = None, cwd: str = ".") -> Policy:
    """The policy in ``path`` (a TOML file), else ``[tool.envparity]`` of the nearest
    pyproject.toml upward from ``cwd``.

    With no file and no ``[tool.envparity]`` table, the default policy (fail on error).
    """
    if path is not None:
        text, data = _read(path)
        tool = data.get("tool", {})
        if isinstance(tool, dict) and "envparity" in tool:
            section = tool["envparity"]
            table = "tool.envparity"
        else:
            section, table = data, ""
        if not isinstance(section, dict):
            raise BadInput(f"{path}: [tool.envparity] must be a table")
        return policy_from_mapping(section, path=path, text=text, table=table)
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return Policy()
    text, data = _read(pyproject)
    section = data.get("tool", {}).get("envparity") if isinstance(data.get("tool"), dict) else None
    if section is None:
        return Policy()
    if not isinstance(section, dict):
        raise BadInput(f"{pyproject}: [tool.envparity] must be a table")
    return policy_from_mapping(section, path=pyproject, text=text, table="tool.envparity")
