"""What a numeric finding says beside the verdict: why it may have changed (settings and the
loaded libraries whose versions moved), a tolerance mismatch, and a large cost difference.

Plain data in, strings out, so :mod:`envparity.parity.compare` stays about verdicts.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .columns import DEFAULT_ATOL, DEFAULT_RTOL

# Top-level module -> distribution, where the names differ (the rest: PEP 503 of the module).
MODULE_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "dateutil": "python-dateutil",
    "bs4": "beautifulsoup4",
    "attr": "attrs",
    "google": "protobuf",
    "jaxlib": "jaxlib",
    "tensorflow": "tensorflow",
}
# Always named when loaded: the libraries whose version most often explains a numeric change.
_ALWAYS = ("numpy", "scipy", "pandas", "scikit-learn", "torch")


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()



COST_RATIO = 2.0
_MIN_WALL_S = 0.05
_MIN_PEAK = 8 * 2**20


def cost_note(b: Mapping[str, Any], c: Mapping[str, Any]) -> Optional[str]:
    """``2.4x slower (60 ms -> 144 ms)`` / ``3.1x the memory (...)`` when the probe's one call
    took far more time or Python memory here; None otherwise."""
    parts = []
    bw, cw = b.get("wall_s"), c.get("wall_s")
    if bw and cw and cw >= COST_RATIO * bw and cw - bw >= _MIN_WALL_S:
        parts.append(f"{cw / bw:.1f}x slower ({bw * 1e3:.0f} ms -> {cw * 1e3:.0f} ms, one call)")
    bp, cp = b.get("peak_bytes"), c.get("peak_bytes")
    if bp is not None and cp and cp >= COST_RATIO * bp and cp - bp >= _MIN_PEAK:
        times = f"{cp / bp:.1f}x the memory" if bp else "more memory"
        parts.append(f"{times} (peak {bp / 2**20:.1f} MiB -> {cp / 2**20:.1f} MiB)")
    return ", ".join(parts) or None


def _tolerances(r: Mapping[str, Any]) -> Tuple[float, float, Dict[str, Any]]:
    """The tolerances a record applies, defaults filled in: a record that leaves a value out
    (a trial child's plain record) registered the same as one that spells the default (a stored
    ``NumericResult``, whose column overrides carry ``atol: null, exact: false``)."""

    def number(value: Any, default: Optional[float]) -> Optional[float]:
        return default if value is None else float(value)

    columns = {
        str(name): (
            number(col.get("rtol"), None), number(col.get("atol"), None), bool(col.get("exact"))
        )
        for name, col in (r.get("columns") or {}).items()
        if isinstance(col, Mapping)
    }
    return (
        number(r.get("rtol"), DEFAULT_RTOL) or 0.0,
        number(r.get("atol"), DEFAULT_ATOL) or 0.0,
        columns,
    )


def tolerance_note(b: Mapping[str, Any], c: Mapping[str, Any]) -> Optional[str]:
    if _tolerances(b) == _tolerances(c):
        return None
    return (
        f"the candidate registered other tolerances (rtol {c.get('rtol')}, atol "
        f"{c.get('atol')}, columns {c.get('columns') or {}}); the baseline's apply "
        f"(rtol {b.get('rtol')}, atol {b.get('atol')}, columns {b.get('columns') or {}})"
    )


def _changed_distributions(
    b: Mapping[str, Any],
    c: Mapping[str, Any],
    base_packages: Optional[Mapping[str, str]],
    cand_packages: Optional[Mapping[str, str]],
) -> List[str]:
    if base_packages is None or cand_packages is None:
        return []
    loaded = set(b.get("loaded") or []) | set(c.get("loaded") or [])
    names = {pep503(MODULE_DISTRIBUTIONS.get(m, m)) for m in loaded}
    out = []
    for name in sorted(names):
        old, new = base_packages.get(name), cand_packages.get(name)
        if old != new and (old is not None or new is not None):
            out.append(f"{name} {old or 'absent'} -> {new or 'absent'}")
    # The usual suspects first: they explain most numeric changes.
    out.sort(key=lambda s: (s.split(" ")[0] not in _ALWAYS, s))
    return out


def _changed_settings(b: Mapping[str, Any], c: Mapping[str, Any]) -> List[str]:
    bs, cs = b.get("settings") or {}, c.get("settings") or {}
    out = []
    for key in sorted(set(bs) | set(cs)):
        if bs.get(key) != cs.get(key):
            out.append(f"{key} {bs.get(key)!r} -> {cs.get(key)!r}")
    return out


def advise(
    b: Mapping[str, Any],
    c: Mapping[str, Any],
    base_packages: Optional[Mapping[str, str]],
    cand_packages: Optional[Mapping[str, str]],
) -> str:
    parts = []
    if b.get("setting"):
        parts.append(f"explained by {b['setting']}")
    settings = _changed_settings(b, c)
    if settings:
        parts.append("settings that changed: " + ", ".join(settings))
    dists = _changed_distributions(b, c, base_packages, cand_packages)
    if dists:
        parts.append("changed among the libraries loaded when it ran: " + ", ".join(dists[:8]))
    if not parts and base_packages is not None:
        parts.append(
            "same versions of the loaded libraries: look at the BLAS, the CPU code path or the "
            "build"
        )
    return "; ".join(parts)

