"""The relevant set: the distributions whose change can reach the model, read from a baseline.

Relevant are the distributions the baseline's model artifacts need, those the process that took
the baseline had loaded, the installed requirements of both (recorded at capture time), the
optional accelerators of a relevant package (:data:`ACCELERATORS`: libraries use them silently
when they are installed) and every BLAS/OpenMP provider (:func:`is_provider`). Relevance always
comes from the baseline: the start-up hook snapshots before the server imports anything, so the
candidate's own loaded set says nothing. When the baseline records neither, relevance is unknown
and every package is judged as if the model used it (:data:`UNKNOWN`).

Plain data in, plain data out; stdlib only (the start-up hook imports it).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

#: Said once in every report whose baseline records no relevance.
UNKNOWN = (
    "relevance unknown: every package judged as if the model used it; give --model or take "
    "the baseline inside the training process"
)

#: Optional accelerators: a relevant package picks these up silently when they are installed.
ACCELERATORS: Dict[str, Tuple[str, ...]] = {
    "pandas": ("bottleneck", "numexpr", "pyarrow", "numba"),
    "scikit-learn": ("threadpoolctl", "scikit-learn-intelex", "daal4py"),
    "numpy": ("mkl", "mkl-service", "intel-openmp", "scipy-openblas32", "scipy-openblas64"),
    "scipy": ("mkl", "intel-openmp", "scipy-openblas32", "scipy-openblas64"),
    "xgboost": ("nvidia-nccl-cu12",),
    "torch": ("triton", "nvidia-cudnn-cu12", "nvidia-cublas-cu12", "intel-openmp", "mkl"),
    "polars": ("pyarrow",),
    "lightgbm": ("threadpoolctl",),
    "joblib": ("threadpoolctl", "loky"),
}

#: BLAS/OpenMP providers: every numeric library may load them, whichever the model uses.
PROVIDERS = frozenset(
    {
        "mkl", "mkl-service", "intel-openmp", "tbb", "blis", "openblas", "scipy-openblas32",
        "scipy-openblas64", "nvidia-cublas-cu11", "nvidia-cublas-cu12", "llvm-openmp",
    }
)

#: Installers and build tools: they put code in place, they never run in the model's process.
INSTALLERS = frozenset(
    {
        "pip", "setuptools", "wheel", "uv", "pipx", "pip-tools", "build", "installer",
        "hatchling", "hatch", "flit", "flit-core", "poetry", "poetry-core", "pdm", "pdm-backend",
        "setuptools-scm", "virtualenv", "twine", "scikit-build-core", "meson-python", "meson",
        "ninja", "maturin", "cython", "pybind11", "conda", "mamba", "pipenv", "distlib",
    }
)

#: Time-zone databases: judged as data (a release shifts local times), not by semver.
TZ_DATA = frozenset({"tzdata", "pytz", "backports-zoneinfo"})


def is_provider(name: str) -> bool:
    """A BLAS/OpenMP (or CUDA math library) provider, by name."""
    return name in PROVIDERS or name.startswith(("nvidia-cublas", "nvidia-cudnn"))


def calendar_year(version: str) -> bool:
    """True for a calendar version (certifi 2024.2.2, pytz 2024.1, tzdata 2025.2)."""
    head = version.split(".", 1)[0]
    return head.isdigit() and 1990 <= int(head) <= 2999


class RelevantSet:
    """Which packages can reach the model, and why (from a baseline's ``relevance``)."""

    __slots__ = ("known", "reasons", "outside", "needed_by", "sources")

    def __init__(self) -> None:
        self.known = False
        #: relevant distribution -> why it is relevant
        self.reasons: Dict[str, str] = {}
        #: why a package outside the set is not (once relevance is known)
        self.outside = ""
        #: distribution -> "model.pkl needs (sklearn.ensemble._forest.RandomForestClassifier)"
        self.needed_by: Dict[str, str] = {}
        #: what relevance came from, for the report ("model.pkl", "the training process")
        self.sources: List[str] = []

    def reason(self, name: str) -> Optional[str]:
        """Why ``name`` is relevant, or None when it is not (or relevance is unknown)."""
        return self.reasons.get(name)

    def note(self) -> str:
        if not self.known:
            return UNKNOWN
        return (
            f"relevance from {' and '.join(self.sources)}: {len(self.reasons)} packages can "
            "reach the model; changes to the others are at most info"
        )


def _name(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


def relevant_set(
    baseline: Dict[str, Any],
    candidate: Optional[Dict[str, Any]] = None,
    installed: Optional[List[str]] = None,
) -> RelevantSet:
    """The relevant set of ``baseline`` (snapshot JSON data). ``candidate``'s model records are
    used only when the baseline has none (the hook's build-time record of the served model);
    ``installed``: the baseline's package names, for accelerators and providers."""
    rs = RelevantSet()
    rel = baseline.get("relevance")
    rel = rel if isinstance(rel, dict) else {}
    models = rel.get("models") or []
    if not models and candidate is not None:
        other = candidate.get("relevance")
        if isinstance(other, dict):
            models = other.get("models") or []
    loaded = rel.get("loaded")
    role = str(baseline.get("role") or "training")
    for artifact in models:
        if not isinstance(artifact, dict):
            continue
        name = _name(str(artifact.get("path") or "the model"))
        for dist, via in sorted((artifact.get("needs") or {}).items()):
            why = f"needed by {name} ({via})"
            rs.reasons.setdefault(dist, why)
            rs.needed_by.setdefault(dist, f"{name} needs ({via})")
        if name not in rs.sources:
            rs.sources.append(name)
    if isinstance(loaded, list):
        for dist in loaded:
            rs.reasons.setdefault(str(dist), f"loaded by the {role} process")
        for dist, via in sorted((rel.get("dependencies") or {}).items()):
            rs.reasons.setdefault(dist, f"{via}, loaded by the {role} process")
        rs.sources.append(f"the {role} process's loaded modules")
    if not rs.sources:
        return rs
    rs.known = True
    names = installed or []
    for pkg in list(rs.reasons):
        for extra in ACCELERATORS.get(pkg, ()):
            if extra in names:
                rs.reasons.setdefault(extra, f"optional accelerator of {pkg}, used when installed")
    for pkg in names:
        if is_provider(pkg):
            rs.reasons.setdefault(pkg, "BLAS/OpenMP provider: numeric code loads it silently")
    parts = []
    if any(isinstance(m, dict) for m in models):
        parts.append("not needed by " + ", ".join(s for s in rs.sources if "process" not in s))
    if isinstance(loaded, list):
        parts.append(f"not loaded by the {role} process")
    rs.outside = " and ".join(parts)
    return rs


def relevance_table() -> str:
    """The relevance tables (Markdown) for docs/severity.md, from the tables above."""
    lines = [
        "| package | optional accelerators (relevant when it is) |",
        "| --- | --- |",
    ]
    for pkg, extras in sorted(ACCELERATORS.items()):
        lines.append(f"| {pkg} | {', '.join(extras)} |")
    lines += [
        "",
        "BLAS/OpenMP providers (always relevant once relevance is known): "
        + ", ".join(sorted(PROVIDERS))
        + ", and every nvidia-cublas-* / nvidia-cudnn-* distribution.",
        "",
        "Installers and build tools (always info): " + ", ".join(sorted(INSTALLERS)) + ".",
        "",
        "Time-zone data (judged as a time zone database release: warning when relevant, else "
        "info): " + ", ".join(sorted(TZ_DATA)) + ".",
        "",
        "Calendar versions: a version whose first part is a year (1990-2999), such as "
        "certifi 2024.2.2, is never a semver major: another year or month is a warning, "
        "another day info (at most info outside the relevant set).",
    ]
    return "\n".join(lines) + "\n"
