"""Sort drift findings into what a bisect can restore in a child process, and what it cannot.

Input: plain finding dicts (``category``, ``key``, ``baseline``, ``candidate``, ``change``,
``severity``, ``why``), as the drift engine produces them; output: :class:`Difference` rows.

- ``env``: restorable by the child's environment: determinism and threading variables, TZ and
  locale, the hash seed, device-visibility settings (``CUDA_VISIBLE_DEVICES``-like). A platform
  time zone or locale finding is folded into the variable that restores it (one difference per
  root cause, its other keys in ``related``).
- ``overlay``: a distribution whose baseline version can be installed into a temporary directory
  and put first on the child's path; ``hide``: a distribution absent in the baseline, hidden from
  the child by a meta-path finder.
- ``untestable``: hardware, Python, OS, libc, driver, code, and anything whose baseline value is
  not known (redacted): listed with the reason, never guessed.

Findings that are themselves measurements (numerics, benchmarks) are symptoms, not causes, and
are left out. The rules are data: each row is (category, key pattern, kind, reason).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..redact import REDACTED as REDACTED_MARK

ENV = "env"
OVERLAY = "overlay"
HIDE = "hide"
UNTESTABLE = "untestable"

# (category, key glob, kind, reason). First match wins; a finding no row matches is untestable
# with the generic reason at the end.
RULES: Tuple[Tuple[str, str, str, str], ...] = (
    ("numerics", "*", "symptom", "a measurement, not a cause"),
    ("benchmark", "*", "symptom", "a measurement, not a cause"),
    ("package", "envparity", UNTESTABLE, "envparity itself: the tool, not the environment"),
    ("package", "* (shadowed)", UNTESTABLE, "a shadowed copy is not in effect in either side"),
    ("package", "*.editable", UNTESTABLE, "same version from another source: not rebuildable"),
    ("package", "*.vcs", UNTESTABLE, "same version from another source: not rebuildable"),
    ("package", "*.url", UNTESTABLE, "same version from another source: not rebuildable"),
    ("package", "*.commit", UNTESTABLE, "same version from another source: not rebuildable"),
    ("package", "*.installer", UNTESTABLE, "same files installed by another tool"),
    ("package", "*.content", UNTESTABLE, "same version, other files: not fetchable by version"),
    ("package", "*", OVERLAY, "baseline version installed into an overlay"),
    ("determinism", "*.*", UNTESTABLE, "a framework switch set in code at start-up"),
    ("determinism", "*", ENV, "set in the child's environment"),
    ("seed", "*", UNTESTABLE, "a seed declared in code"),
    ("env", "PYTHONPATH", UNTESTABLE, "names paths of the baseline's machine"),
    ("env", "LD_LIBRARY_PATH", UNTESTABLE, "names paths of the baseline's machine"),
    ("env", "LD_PRELOAD", UNTESTABLE, "names paths of the baseline's machine"),
    ("env", "CONDA_DEFAULT_ENV", UNTESTABLE, "names another conda environment"),
    ("env", "*", ENV, "set in the child's environment"),
    ("platform", "timezone", ENV, "restored with TZ"),
    ("platform", "utc_offset_minutes", ENV, "restored with TZ"),
    ("platform", "locale", ENV, "restored with LC_ALL"),
    ("platform", "preferred_encoding", ENV, "restored with the locale"),
    ("platform", "filesystem_encoding", ENV, "restored with the locale"),
    ("platform", "libc*", UNTESTABLE, "the C library of the machine"),
    ("platform", "*", UNTESTABLE, "the operating system"),
    ("python", "*", UNTESTABLE, "the Python interpreter"),
    ("cpu", "*", UNTESTABLE, "hardware (CPU)"),
    ("memory", "*", UNTESTABLE, "hardware (memory)"),
    ("gpu", "*", UNTESTABLE, "hardware or driver (GPU)"),
    ("accelerator", "*", UNTESTABLE, "the CUDA/cuDNN runtime a framework loaded"),
    ("blas", "*", UNTESTABLE, "follows the distribution that vendors it and the thread "
     "variables; restored with those"),
    ("code", "*", UNTESTABLE, "the code checkout"),
)
_GENERIC = "not something a child process can restore"

# Names whose hash seed value means "randomised", as the capture may record it.
_HASH_KEYS = re.compile(r"hash_?(seed|randomi[sz]ation)", re.IGNORECASE)


@dataclass
class Difference:
    """One thing that differs, as a bisect sees it."""

    key: str  # the finding key: numpy, TZ, OPENBLAS_NUM_THREADS, cpu model ...
    category: str
    kind: str  # env | overlay | hide | untestable
    baseline: Any = None
    candidate: Any = None
    reason: str = ""
    related: List[str] = field(default_factory=list)  # other finding keys of the same root cause
    variables: Dict[str, Optional[str]] = field(default_factory=dict)  # env: name -> value/unset
    package: Optional[str] = None  # overlay/hide: the distribution name
    version: Optional[str] = None  # overlay: the baseline version

    @property
    def restorable(self) -> bool:
        return self.kind in (ENV, OVERLAY, HIDE)

    @property
    def label(self) -> str:
        return f"{self.category}:{self.key}"


def _rule(category: str, key: str) -> Tuple[str, str]:
    for cat, pattern, kind, reason in RULES:
        if cat == category and fnmatch.fnmatchcase(key, pattern):
            return kind, reason
    return UNTESTABLE, _GENERIC


def _hash_seed_value(value: Any) -> Optional[str]:
    """The PYTHONHASHSEED that reproduces a recorded hash seed (None: unset, randomised)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "random", "randomized", "true"):
        return "random"
    if text in ("disabled", "false", "off"):
        return "0"
    return str(value)


def classify(
    findings: Sequence[Dict[str, Any]], baseline_vars: Optional[Dict[str, str]] = None
) -> List[Difference]:
    """Every finding as a :class:`Difference`, in the findings' order, symptoms left out.

    A finding that stands for a root cause lists the other keys it covers in ``related`` (the
    drift engine groups thread counts, time zone and locale so); the variables among them are
    restored too, with the baseline's values from ``baseline_vars`` (its recorded determinism and
    allowlisted variables).
    """
    known = dict(baseline_vars or {})
    out: List[Difference] = []
    by_variable: Dict[str, Difference] = {}
    platform: List[Dict[str, Any]] = []
    for f in findings:
        category, key = str(f["category"]), str(f["key"])
        base, cand = f.get("baseline"), f.get("candidate")
        kind, reason = _rule(category, key)
        if kind == "symptom":
            continue
        if f.get("change") == "incomplete":
            kind, reason = UNTESTABLE, "a probe could not read it on one side"
        if category == "platform" and kind == ENV:
            platform.append(f)  # folded into TZ / the locale below
            continue
        d = Difference(key, category, kind, base, cand, reason)
        if kind == ENV and (_secret(base) or _secret(cand)):
            d.kind, d.reason = UNTESTABLE, "the value was redacted: its baseline value is unknown"
        elif kind == ENV:
            name = "PYTHONHASHSEED" if _HASH_KEYS.search(key) else key
            value = _hash_seed_value(base) if name != key else base
            d.variables = {name: None if value is None else str(value)}
            d.related = [str(r) for r in f.get("related") or []]
            for other in d.related:
                cat, _, var = other.partition(":")
                if cat in ("determinism", "env") and var and _rule(cat, var)[0] == ENV:
                    d.variables.setdefault(var, known.get(var))
                    by_variable.setdefault(var, d)
            by_variable[name] = d
        elif kind == OVERLAY:
            d.package = key
            if f.get("baseline") is None:
                d.kind, d.reason = HIDE, "absent in the baseline: hidden from the child"
            else:
                d.version = str(base)
        out.append(d)
    out.extend(_fold_platform(platform, by_variable, known))
    return out


def _secret(value: Any) -> bool:
    return isinstance(value, str) and REDACTED_MARK in value


def _fold_platform(
    findings: List[Dict[str, Any]], by_variable: Dict[str, Difference], known: Dict[str, str]
) -> List[Difference]:
    """Platform time zone / locale findings: related keys of the variable that restores them, or
    a difference of their own restored through TZ / LC_ALL when the baseline's value is known."""
    out: List[Difference] = []
    made: Dict[str, Difference] = {}
    order = {"timezone": 0, "locale": 1}
    for f in sorted(findings, key=lambda f: order.get(str(f["key"]), 2)):
        key, base, cand = str(f["key"]), f.get("baseline"), f.get("candidate")
        is_tz = key in ("timezone", "utc_offset_minutes")
        variables = ("TZ",) if is_tz else ("LC_ALL", "LC_CTYPE", "LANG")
        owner = next((by_variable[v] for v in variables if v in by_variable), None)
        if owner is None:
            owner = made.get("TZ" if is_tz else "LC_ALL")
        if owner is not None:
            owner.related.append(f"platform:{key}")
            continue
        d = Difference(key, "platform", UNTESTABLE, base, cand)
        d.related = [str(r) for r in f.get("related") or []]
        if is_tz and "env:TZ" in d.related:
            # The variable set on one side is the cause a person restores: name it so, the
            # platform's zone and offset in related.
            # The baseline's TZ when it had one, else its zone by name (TZ unset there: the zone
            # came from /etc/localtime, which TZ=<that zone> reproduces).
            value = known.get("TZ") or (base if isinstance(base, str) and _tz_name(base) else None)
            d = Difference("TZ", "env", ENV, value, cand)
            d.related = [f"platform:{key}"] + [
                str(r) for r in f.get("related") or [] if r != "env:TZ"
            ]
            d.reason, d.variables = "set in the child's environment", {"TZ": value}
            made["TZ"] = d
        elif is_tz and key == "timezone" and isinstance(base, str) and _tz_name(base):
            d.kind, d.reason, d.variables = ENV, "restored with TZ", {"TZ": base}
            made["TZ"] = d
        elif key == "locale" and isinstance(base, str) and base:
            d.kind, d.reason, d.variables = ENV, "restored with LC_ALL", {"LC_ALL": base}
            for other in d.related:  # the locale variables the engine grouped under it
                cat, _, var = other.partition(":")
                if cat == "env" and var != "LC_ALL":
                    d.variables[var] = known.get(var)
            made["LC_ALL"] = d
        elif is_tz:
            d.reason = "the baseline's zone has no name TZ can take"
        else:
            d.reason = "follows the locale, which is not known for the baseline"
        out.append(d)
    return out


def _tz_name(name: str) -> bool:
    """An IANA zone name TZ can take (not an abbreviation such as CET, which is ambiguous)."""
    return "/" in name or name.upper() in ("UTC", "GMT", "UCT", "ZULU")
