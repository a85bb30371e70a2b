"""What a package's version change means: semantic versioning, raised for the ML table's
libraries and known breaks, calendar versions and time zone database releases."""

from __future__ import annotations

from typing import Any, Optional, Tuple

from ..relevance.relevant import calendar_year
from ..severity import RANK
from .package_tables import BREAKS, ML_BY_NAME


def _public(v: Any) -> Tuple[Any, ...]:
    # Version.public builds a string; this tuple compares the same (trailing zeros do not count,
    # as in Version equality) at a fraction of the cost, which matters with thousands of packages.
    release = v.release
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return (v.epoch, release, v.pre, v.post, v.dev)


_RANKS = RANK  # the one severity order


def _crossed(a: Any, b: Any, release: Tuple[int, ...]) -> bool:
    low, high = (a, b) if a < b else (b, a)
    n = len(release)
    return tuple(low.release[:n]) < release <= tuple((high.release + (0,) * n)[:n])


def version_change(name: str, old: str, new: str) -> Tuple[str, str]:
    """Severity and why for a package whose version went from ``old`` to ``new``."""
    from packaging.version import InvalidVersion, Version

    pin = f"pin {name}=={old}"
    try:
        a, b = Version(old), Version(new)
    except InvalidVersion:
        return (
            "warning",
            f"not a PEP 440 version, compared as text, so the size of the change is unknown: {pin}",
        )
    if a == b:
        return ("info", f"the same version written differently ({old} vs {new}); harmless")
    direction = "downgraded" if b < a else "upgraded"
    if _public(a) == _public(b):
        return (
            "warning",
            f"same version, another build ({old} -> {new}: other compiled code, e.g. CPU vs CUDA): "
            f"install the baseline's build, {pin}",
        )
    ra, rb = a.release + (0, 0), b.release + (0, 0)
    if calendar_year(old) and calendar_year(new) and a.epoch == b.epoch:
        # A year is a date, not a compatibility promise: never a semver "major".
        return (
            "warning" if ra[:2] != rb[:2] else "info",
            f"calendar-versioned release {direction} ({old} -> {new}: a date, not a "
            f"compatibility promise): {pin}",
        )
    if a.epoch != b.epoch or ra[0] != rb[0]:
        severity, size = "error", "major version"
    elif ra[1] != rb[1]:
        severity, size = "warning", "minor version"
    else:
        severity, size = "info", "patch/pre/post release"
    why = f"{size} {direction}: {pin}"
    if a.local != b.local:
        # A local label names a build (+cpu, +cu121): a different one is at least a warning.
        if severity == "info":
            severity = "warning"
        why = f"{size} {direction} and another build (+{a.local or ''} -> +{b.local or ''}): {pin}"
    ml = ML_BY_NAME.get(name)
    if ml is not None:
        raise_to: Optional[str] = None
        if ml.rule == "minor":
            raise_to = "error" if size != "patch/pre/post release" else "warning"
        elif ml.rule == "downgrade-minor" and b < a and size != "patch/pre/post release":
            raise_to = "error"
        if raise_to and _RANKS[raise_to] > _RANKS[severity]:
            severity = raise_to
            why = f"{size} {direction}: {ml.why}; {ml.todo} ({pin})"
    for brk in BREAKS:
        if brk.name == name and _crossed(a, b, brk.release):
            if _RANKS[brk.severity] > _RANKS[severity]:
                severity = brk.severity
            why = f"{size} {direction}: {brk.advice} ({pin})"
    return severity, why


def tz_change(name: str, old: str, new: str) -> str:
    """What a time-zone database release means (tzdata, pytz)."""
    return (
        f"time zone database {old} -> {new}: local times can shift (rules of some zones "
        f"changed); pin {name}=={old} if local dates must match"
    )
