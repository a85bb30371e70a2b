"""The drift policy's rules on plain data: reading, validating and applying it, stdlib only.

A policy lives in ``[tool.envparity]`` of the nearest pyproject.toml, or in a TOML file given with
``--policy`` (top-level keys, or a ``[tool.envparity]`` table); see :mod:`envparity.policy` for its
keys. This module is the one definition of what a policy means: which findings it ignores,
which severities it changes (an exact key beats a glob, a longer literal a shorter one), and what
a valid policy file is (an invalid one is a :class:`~envparity.errors.BadInput` naming the file,
the line and the key). The pydantic ``envparity.policy.Policy`` (the public API) delegates to
it; the start-up hook uses :class:`Rules` directly, so that comparing at start-up imports no
pydantic.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date as _date
from fnmatch import fnmatchcase
from typing import Any, Callable, Dict, List, Optional, Tuple, TypedDict

from ..errors import BadInput
from .severity import FAIL_ON, OVERRIDES

#: The keys of ``[tool.envparity]``; others are warned about and ignored.
KEYS: Tuple[str, ...] = ("fail_on", "ignore", "severity", "probes", "model", "waive")
_WARNED: set = set()

Decide = Callable[[str, str, str], Optional[str]]


class WaiverRule(TypedDict):
    """A waiver as the policy states it (``[[tool.envparity.waive]]``, ``--waive``); the report's
    ``Waiver`` is what one did to a finding."""

    key: str
    reason: str
    until: Optional[str]


def normalize(pattern: str) -> str:
    """``category:key`` with the category lower-cased and package names PEP 503 normalized."""
    category, sep, key = pattern.partition(":")
    category = category.strip().lower()
    if not sep:
        return f"{category}:*"
    if category == "package":
        # Findings name packages by their PEP 503 name, so "Ruamel.YAML" must match "ruamel-yaml".
        key = re.sub(r"[-_.]+", "-", key).lower()
    return f"{category}:{key}"


def specificity(pattern: str) -> Tuple[int, int]:
    """Sort key of an override: an exact key beats a glob, a longer literal part a shorter one,
    so "package:torch" wins over "package:*" whichever order the file lists them in."""
    wildcard = any(c in pattern for c in "*?[")
    literal = len(re.sub(r"[*?\[\]]", "", pattern))
    return (0 if wildcard else 1, literal)


class Rules:
    """A validated policy as plain data: the drift engine's ``PolicyLike``.

    ``fail_on``, ``ignore``, ``severity``, ``probes`` and ``source`` are the fields of
    ``envparity.policy.Policy``; the patterns are normalized and ordered once (reports may
    carry thousands of findings).
    """

    __slots__ = (
        "fail_on", "ignore", "severity", "probes", "source", "table", "model", "waive", "today",
        "lenient_expiry", "_ignore", "_overrides",
    )

    def __init__(
        self,
        fail_on: str = "error",
        ignore: Optional[List[str]] = None,
        severity: Optional[Dict[str, str]] = None,
        probes: Optional[List[str]] = None,
        source: Optional[str] = None,
        table: Optional[str] = None,
        model: Optional[List[str]] = None,
        waive: Optional[List[Dict[str, Any]]] = None,
        today: Optional[str] = None,
        lenient_expiry: bool = False,
    ) -> None:
        self.fail_on = fail_on
        self.ignore: List[str] = list(ignore or [])
        self.severity: Dict[str, str] = dict(severity or {})
        self.probes: List[str] = list(probes or [])
        self.source = source
        #: The table the policy was read from ("[tool.envparity]", or "" for top-level keys).
        self.table = table
        #: Model artifacts a snapshot records when none is given (``[tool.envparity] model``).
        self.model: List[str] = list(model or [])
        #: Waivers: ``{"key", "reason", "until"}`` (until: an ISO date or None); typed as
        #: ``envparity.policy.Policy.waive`` is (it passes them here and returns them).
        self.waive: List[Dict[str, Any]] = [dict(w) for w in waive or []]
        #: The date waivers expire against (ISO); the caller's clock, so the engine has none.
        self.today = today or _date.today().isoformat()
        #: True in the start-up hook: an expired waiver still waives (and is logged).
        self.lenient_expiry = lenient_expiry
        self._ignore = [normalize(p) for p in self.ignore]
        self._overrides: List[Tuple[str, str]] = sorted(
            ((normalize(p), str(s)) for p, s in self.severity.items()),
            key=lambda item: specificity(item[0]),
            reverse=True,
        )

    def fields(self) -> Dict[str, Any]:  # keyword arguments of Rules and Policy
        """The policy's fields (``Policy(**rules.fields())`` is the same policy)."""
        return {
            "fail_on": self.fail_on,
            "ignore": list(self.ignore),
            "severity": dict(self.severity),
            "probes": list(self.probes),
            "source": self.source,
            "table": self.table,
            "model": list(self.model),
            "waive": [dict(w) for w in self.waive],
        }

    def with_fail_on(self, fail_on: str) -> Rules:
        """The same rules with another threshold (``--fail-on`` over the policy's)."""
        return self._with(fail_on=fail_on)

    def with_waivers(self, waivers: List[Dict[str, Any]]) -> Rules:
        """The same rules with more waivers (``--waive KEY --reason TEXT``)."""
        return self._with(waive=self.waive + [dict(w) for w in waivers])

    def lenient(self) -> Rules:
        """The same rules for the start-up hook: an expired waiver still waives."""
        return self._with(lenient_expiry=True)

    def _with(self, **changes: Any) -> Rules:
        fields = dict(self.fields(), today=self.today, lenient_expiry=self.lenient_expiry)
        fields.update(changes)
        return Rules(**fields)

    @property
    def waivers(self) -> List[Dict[str, Any]]:
        return self.waive

    def explain(self, category: str, key: str, severity: str) -> Tuple[Optional[str], str]:
        """:meth:`decide`, and the rule that decided it (``ignore "gpu:*"``, ``"package:numpy"
        = "info"``, or "" when no rule matched), for the report's policy lines."""
        target = f"{category}:{key}"
        for pattern, raw in zip(self._ignore, self.ignore):
            if fnmatchcase(target, pattern):
                return None, f"ignore {raw!r}"
        for pattern, override in self._overrides:
            if fnmatchcase(target, pattern):
                rule = f"[severity] {pattern!r} = {override!r}"
                return (None if override == "ignore" else override), rule
        return severity, ""

    def decide(self, category: str, key: str, severity: str) -> Optional[str]:
        """The severity a finding ``category:key`` gets, or None when the policy ignores it."""
        target = f"{category}:{key}"
        if any(fnmatchcase(target, p) for p in self._ignore):
            return None
        for pattern, override in self._overrides:
            if fnmatchcase(target, pattern):
                return None if override == "ignore" else override
        return severity

    def decider(self) -> Optional[Decide]:
        """:meth:`decide`, or None when the policy changes no finding (the engine then skips
        it: thousands of findings, no call each)."""
        if not self._ignore and not self._overrides and not self.waive:
            return None
        return self.decide

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and self.fields() == other.fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rules({', '.join(f'{k}={v!r}' for k, v in self.fields().items())})"


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


def validate(  # a parsed TOML table in, the keyword arguments of Rules and Policy out
    data: Dict[str, Any], *, path: str, text: str = "", table: str = ""
) -> Dict[str, Any]:
    """The policy fields of a parsed policy table; every problem is a BadInput naming the line
    and key. An unknown key is a warning on stderr (once), not an error."""
    for key in data:
        if key not in KEYS:
            # A warning, not an error: an older envparity in a serving image must still accept
            # the pyproject of a newer one.
            warning = (
                f"envparity: warning: {_where(path, text, table, key)}: unknown policy key, "
                f"ignored; known keys: {', '.join(KEYS)}\n"
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
    if fail_on not in FAIL_ON:
        raise BadInput(
            f"{_where(path, text, table, 'fail_on')} = {fail_on!r}: "
            f"expected one of {', '.join(FAIL_ON)}"
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
        if value not in OVERRIDES:
            raise BadInput(
                f"{_where(path, text, table, key, 'severity')} = {value!r}: "
                f"expected one of {', '.join(OVERRIDES)}"
            )
    model = data.get("model", [])
    if isinstance(model, str):
        model = [model]
    if not isinstance(model, list) or not all(isinstance(m, str) and m for m in model):
        raise BadInput(
            f"{_where(path, text, table, 'model')}: expected a list of model paths, e.g. "
            '["models/model.pkl"]'
        )
    base = os.path.dirname(os.path.abspath(path)) if path and os.path.isfile(path) else ""
    model = [m if m.startswith("mlflow:") or not base else os.path.join(base, m) for m in model]
    return {
        "fail_on": fail_on,
        "ignore": list(ignore),
        "severity": dict(severity),
        "probes": list(probes),
        "source": path,
        "table": f"[{table}]" if table else "",
        "model": model,
        "waive": waivers(data.get("waive", []), where=lambda k: _where(path, text, table, k)),
    }


def waivers(raw: Any, *, where: Callable[[str], str]) -> List[WaiverRule]:
    """Validated waivers: ``[{"key", "reason", "until"}]``. A waiver with no reason, or an until
    that is not a date, is a BadInput (exit 2): a waiver must say why, or it hides a finding
    for good."""
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise BadInput(f"{where('waive')}: expected [[tool.envparity.waive]] tables")
    out: List[WaiverRule] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise BadInput(
                f"{where('waive')}: each waiver needs a key, e.g. key = \"package:numpy\""
            )
        key = item["key"]
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise BadInput(
                f"{where('waive')}: the waiver of {key} has no reason: add reason = \"...\" "
                "saying why the finding is accepted"
            )
        until = item.get("until")
        if until is not None:
            until = parse_until(until, f"{where('waive')}: the waiver of {key}")
        out.append({"key": key, "reason": reason.strip(), "until": until})
    return out


def parse_until(value: Any, what: str) -> str:
    """An until date as ISO text (a TOML date or "YYYY-MM-DD"); else a BadInput."""
    if isinstance(value, _date):
        return value.isoformat()[:10]
    try:
        return _date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise BadInput(f"{what}: until = {value!r} is not a date; write it as 2027-01-31") from None


def _read(path: str) -> Tuple[str, Dict[str, Any]]:  # the text and its TOML document
    from ..inputs import parse, read_text

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


def load_fields(path: Optional[str] = None, cwd: str = ".") -> Dict[str, Any]:  # see validate
    """The policy fields in ``path`` (a TOML file), else in ``[tool.envparity]`` of the nearest
    pyproject.toml upward from ``cwd``; ``{}`` (the default policy) when there is neither."""
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
        return validate(section, path=path, text=text, table=table)
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return {}
    text, data = _read(pyproject)
    section = data.get("tool", {}).get("envparity") if isinstance(data.get("tool"), dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise BadInput(f"{pyproject}: [tool.envparity] must be a table")
    return validate(section, path=pyproject, text=text, table="tool.envparity")


def load_rules(path: Optional[str] = None, cwd: str = ".") -> Rules:
    """:func:`load_fields` as :class:`Rules` (the start-up hook's policy)."""
    return Rules(**load_fields(path, cwd))
