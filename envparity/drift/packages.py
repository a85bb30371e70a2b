"""Package drift: versions, builds and origins, with ML-aware severities from a cited table.

Semantic versioning says a minor release is compatible; for libraries whose fitted models or
pickles are tied to the version that wrote them it is not, so :data:`ML_PACKAGES` raises their
version changes. Each row cites the source of the rule; ``policy`` can still lower any of them
(``"package:scikit-learn" = "info"``). :data:`BREAKS` adds advice for known behavioural breaks
when a change crosses a release. Sources stay in the tables (and the README), not in the
findings' text, so reports hold no links.

Relevance (issue 24, :mod:`envparity.relevance.relevant`) then decides how much of that applies:
a package the baseline shows the model cannot reach is at most info and folded into one finding
per kind; installers are always info; calendar versions never count a year as a major; time-zone
data is judged as a time zone database release. Each finding carries its ``severity_reason``.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ..relevance.relevant import INSTALLERS, TZ_DATA, RelevantSet, calendar_year
from ..severity import RANK
from .findings import Findings, same


class MLPackage(NamedTuple):
    """A library whose saved models or pickles are tied to its version."""

    name: str
    #: "minor": a change of major or minor version is an error, a patch one a warning;
    #: "downgrade-minor": a minor downgrade is an error (older code, newer files), an upgrade a
    #: warning.
    rule: str
    why: str
    todo: str
    source: str


ML_PACKAGES: Tuple[MLPackage, ...] = (
    MLPackage(
        "scikit-learn",
        "minor",
        "fitted estimators pickled under one scikit-learn version are only supported under that "
        "version (e.g. a RandomForest pickled under 1.3 fails at predict under 1.6)",
        "install the baseline's version, or retrain and re-save the model under the candidate's",
        "https://scikit-learn.org/stable/model_persistence.html"
        "#security-maintainability-limitations",
    ),
    MLPackage(
        "xgboost",
        "minor",
        "pickled boosters (memory snapshots) are not stable across XGBoost versions; only "
        "save_model JSON/UBJSON files are",
        "install the baseline's version, or load the model from a save_model .json/.ubj file",
        "https://xgboost.readthedocs.io/en/stable/tutorials/saving_model.html",
    ),
    MLPackage(
        "lightgbm",
        "downgrade-minor",
        "LightGBM promises model files readable within one major series, by newer releases; an "
        "older release need not read a newer file",
        "install the baseline's version, or re-save the model with the candidate's",
        "https://github.com/microsoft/LightGBM/issues/4407",
    ),
    MLPackage(
        "pandas",
        "downgrade-minor",
        "read_pickle is backwards compatible only: a pickle written by a newer pandas need not "
        "load in an older one",
        "install the baseline's version, or store frames as Parquet instead of pickles",
        "https://pandas.pydata.org/docs/user_guide/io.html#pickling",
    ),
)
ML_BY_NAME: Dict[str, MLPackage] = {row.name: row for row in ML_PACKAGES}


class Break(NamedTuple):
    """A release that changed behaviour: a change crossing ``release`` gets this advice."""

    name: str
    release: Tuple[int, ...]
    severity: str
    advice: str
    source: str


BREAKS: Tuple[Break, ...] = (
    Break(
        "numpy",
        (2,),
        "error",
        "NumPy 2 changed scalar type promotion (NEP 50: float32 array * Python float stays "
        "float32, overflow in NumPy scalars raises) and its pickles name numpy._core, which "
        "NumPy 1 cannot load; run the model's parity probes",
        "https://numpy.org/neps/nep-0050-scalar-promotion.html",
    ),
    Break(
        "pandas",
        (3,),
        "error",
        "pandas 3 makes copy-on-write the default: chained assignment no longer writes through "
        "and views become copies; test with pd.options.mode.copy_on_write = True first",
        "https://pandas.pydata.org/docs/user_guide/copy_on_write.html",
    ),
    Break(
        "torch",
        (2, 6),
        "error",
        "torch 2.6 changed torch.load's default to weights_only=True: full-model pickles stop "
        "loading; pass weights_only=False for trusted files or save state_dicts",
        "https://pytorch.org/docs/stable/notes/serialization.html",
    ),
)

#: Fields that say where a distribution came from (direct_url.json).
ORIGIN_FIELDS: Tuple[str, ...] = ("editable", "vcs", "url", "commit")

#: Build provenance (schema 2; unknown on a side that does not record it): field -> why.
BUILD_FIELDS: Tuple[Tuple[str, str], ...] = (
    (
        "built_locally",
        "one side built from source, the other installed a published wheel: compiler and "
        "flags differ; install {name} the way the baseline did",
    ),
    (
        "wheel_tags",
        "same version, another wheel (platform/ABI/CPU or CUDA target): install the "
        "baseline's wheel of {name}",
    ),
)


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


#: Why a finding has its severity, when relevance does not decide it.
INSTALLER_REASON = "installer/build tool: never affects results"
UNKNOWN_REASON = "relevance unknown: judged as if the model used it"

#: Group keys of findings folded into one (see :func:`envparity.drift.engine.fold`), with the
#: wording of the folded finding ({n}: how many, {names}: the first names).
GROUPS: Dict[str, str] = {
    "unused-changed": "{n} packages the model never loads changed: {names}",
    "unused-missing": "{n} packages the model never loads are missing from the candidate: "
    "{names}",
    "unused-added": "{n} packages only in the candidate, which the model never loads: {names}",
    "missing": "{n} packages are missing from the candidate: {names}; install them, or give "
    "--model so that envparity knows which ones the model needs",
}


def tz_change(name: str, old: str, new: str) -> str:
    """What a time-zone database release means (tzdata, pytz)."""
    return (
        f"time zone database {old} -> {new}: local times can shift (rules of some zones "
        f"changed); pin {name}=={old} if local dates must match"
    )


class _Judge:
    """Applies relevance to a package finding: the severity it keeps, why, and its group."""

    __slots__ = ("rs", "cand_role")

    def __init__(self, rs: Optional[RelevantSet], cand_role: str) -> None:
        self.rs = rs
        self.cand_role = cand_role

    def __call__(
        self, name: str, kind: str, severity: str, why: str
    ) -> Tuple[str, str, str, Optional[str]]:
        """``(severity, why, severity_reason, group)`` for a finding of ``kind`` (changed,
        removed, added) whose syntax-based verdict is ``severity``/``why``."""
        rs = self.rs
        known = rs is not None and rs.known
        reason = rs.reason(name) if rs is not None else None
        unused = "unused-" + ("missing" if kind == "removed" else kind)
        if name in INSTALLERS:
            return "info", why, INSTALLER_REASON, unused if known and reason is None else None
        if known and reason is None:
            assert rs is not None
            return "info", why, rs.outside or "not used by the model", unused
        if kind == "removed":
            if known and rs is not None and name in rs.needed_by:
                who = self.cand_role or "the candidate"
                why = f"{who} lacks {name}, which {rs.needed_by[name]}: " + why.split(": ", 1)[-1]
            return severity, why, reason or UNKNOWN_REASON, None if known else "missing"
        return severity, why, reason or UNKNOWN_REASON, None


def compare(
    out: Findings,
    base: List[Dict[str, Any]],
    cand: List[Dict[str, Any]],
    *,
    shadowed: bool = False,
    prefix: str = "",
    relevance: Optional[RelevantSet] = None,
    candidate_role: str = "",
) -> None:
    """Packages of two snapshots (lists of package dicts), by PEP 503 name.

    ``prefix`` names another package universe (``conda:`` for conda's native packages).
    ``relevance`` (from the baseline) caps what cannot reach the model at info and groups it.
    """
    # envparity itself and the dependencies only it needs, judged per side: never drift.
    tool = {p["name"] for p in base if p.get("tool")} | {p["name"] for p in cand if p.get("tool")}
    a = {p["name"]: p for p in base if p["name"] not in tool}
    b = {p["name"]: p for p in cand if p["name"] not in tool}
    suffix = " (shadowed)" if shadowed else ""
    judge = _Judge(relevance, candidate_role)
    if a.keys() == b.keys():
        names: Any = [n for n in a if a[n] != b[n]]  # the common case: few differ
        names.sort()
    else:
        names = sorted(a.keys() | b.keys())
    for name in names:
        pa, pb = a.get(name), b.get(name)
        if pa is not None and pb is not None and pa == pb:
            continue
        key = prefix + name + suffix
        if shadowed:
            if pa is None or pb is None or pa.get("version") != pb.get("version"):
                out.add(
                    "package",
                    key,
                    None if pa is None else pa.get("version"),
                    None if pb is None else pb.get("version"),
                    "info",
                    "a copy hidden by an earlier sys.path entry (not in effect): remove stale "
                    "copies so the one that loads is unambiguous",
                    severity_reason="a shadowed copy is not the one that loads",
                )
            continue
        if pb is None:
            assert pa is not None
            severity, why, reason, group = judge(
                name, "removed", "error",
                f"missing from the candidate: install {name}=={pa['version']}",
            )
            out.add("package", key, pa["version"], None, severity, why,
                    severity_reason=reason, group=group)
        elif pa is None:
            severity, why, reason, group = judge(
                name, "added", "info",
                "only in the candidate: remove it if unused, or add it to the baseline",
            )
            if relevance is None or not relevance.known:
                reason = "only in the candidate: nothing the baseline ran used it"
            out.add("package", key, None, pb["version"], severity, why,
                    severity_reason=reason, group=group)
        elif pa["version"] != pb["version"]:
            if name in TZ_DATA:
                severity, why = "warning", tz_change(name, pa["version"], pb["version"])
            else:
                severity, why = version_change(name, pa["version"], pb["version"])
            severity, why, reason, group = judge(name, "changed", severity, why)
            if name in TZ_DATA and group is None:
                reason = "time zone data: " + reason
            out.add("package", key, pa["version"], pb["version"], severity, why,
                    severity_reason=reason, group=group)
        else:
            if pa.get("content") or pb.get("content"):
                _by_content(out, key, name, pa, pb)
                continue
            differs = [f for f in ORIGIN_FIELDS if not same(pa.get(f), pb.get(f))]
            for field in differs:
                va, vb = pa.get(field), pb.get(field)
                if field == "editable":
                    va, vb = bool(va), bool(vb)
                if isinstance(va, list) or isinstance(vb, list):
                    va = None if va is None else ",".join(map(str, va))
                    vb = None if vb is None else ",".join(map(str, vb))
                severity, why, reason, group = judge(
                    name, "changed", "warning",
                    f"same version number from another source ({field}): other code "
                    f"may be running; install {name} the way the baseline did",
                )
                out.add("package", f"{key}.{field}", va, vb, severity, why,
                        severity_reason=reason, group=group)
            rebuilt = not differs and _build(out, key, name, pa, pb, judge)
            if not differs and not rebuilt and not same(pa.get("installer"), pb.get("installer")):
                out.add(
                    "package",
                    f"{key}.installer",
                    pa.get("installer"),
                    pb.get("installer"),
                    "info",
                    "installed by another tool; harmless unless the builds differ",
                    severity_reason="the installing tool leaves the installed code unchanged",
                )


def _build(
    out: Findings, key: str, name: str, pa: Dict[str, Any], pb: Dict[str, Any], judge: _Judge
) -> bool:
    """One finding for another build of the same version, when both sides record provenance."""
    for field, why in BUILD_FIELDS:
        va, vb = pa.get(field), pb.get(field)
        if va is None or vb is None or va == [] or vb == [] or va == vb:
            continue  # unknown on a side (schema 1, or no WHEEL file): not evidence
        sa, sb = (",".join(v) if isinstance(v, list) else v for v in (va, vb))
        severity, text, reason, group = judge(name, "changed", "warning", why.format(name=name))
        out.add("package", f"{key}.{field}", sa, sb, severity, text,
                severity_reason=reason, group=group)
        return True
    return False


def conda(out: Findings, base: List[Dict[str, Any]], cand: List[Dict[str, Any]]) -> None:
    """conda-meta packages by name (version, build string, channel), when both sides are conda
    environments: a pip side has no native stack to compare, and its Python packages already are.

    Channels are compared in one spelling (``conda_channel``: short or full URL, with or without
    the subdir), so conda, mamba and micromamba environments of the same packages agree. A swap
    of the BLAS implementation (MKL -> OpenBLAS) is one finding, the packages it moved in
    ``related``.
    """
    if not base or not cand:
        return
    a = {p["name"]: p for p in base}
    b = {p["name"]: p for p in cand}
    blas_a, blas_b = blas_implementation(a), blas_implementation(b)
    swap = blas_a is not None and blas_b is not None and blas_a != blas_b
    related: List[str] = []
    for name in sorted(a.keys() | b.keys()):
        pa, pb = a.get(name), b.get(name)
        if pa == pb:
            continue
        if swap and _BLAS_PACKAGE.match(name):
            if _conda_differs(pa, pb):
                related.append(f"package:conda:{name}")
            continue
        _conda_one(out, name, pa, pb)
    if swap:
        token = _BLAS_TOKENS[blas_a or ""]
        out.add(
            "package", "conda:blas", blas_a, blas_b, "warning",
            f"BLAS {blas_a} -> {blas_b}: another BLAS/LAPACK implementation, so linear algebra "
            f"results and speed differ; conda install \"libblas=*=*{token}\" in the candidate",
            related,
        )


def _conda_differs(pa: Optional[Dict[str, Any]], pb: Optional[Dict[str, Any]]) -> bool:
    if pa is None or pb is None:
        return True
    return (pa["version"], pa.get("build")) != (pb["version"], pb.get("build")) or not same(
        _channel(pa), _channel(pb)
    )


def _channel(package: Dict[str, Any]) -> Optional[str]:
    from ..collect.packages import conda_channel

    return conda_channel(package.get("channel"))  # a schema-2 side wrote the raw spelling


def _conda_one(
    out: Findings, name: str, pa: Optional[Dict[str, Any]], pb: Optional[Dict[str, Any]]
) -> None:
    if pa is None or pb is None:
        p = pa or pb
        assert p is not None
        spec = f"{p['version']}={p.get('build') or ''}"
        out.add(
            "package", f"conda:{name}", spec if pa else None, spec if pb else None, "warning",
            f"conda package on one side only: conda install {name}={spec} where it is "
            "missing, or remove it",
        )
    elif pa["version"] != pb["version"]:
        spec = f"{pa['version']}={pa.get('build') or ''}"
        _, why = version_change(name, pa["version"], pb["version"])
        size = why.split(":", 1)[0]
        out.add(
            "package", f"conda:{name}", spec, f"{pb['version']}={pb.get('build') or ''}",
            "warning",
            f"{name} {pa['version']} -> {pb['version']} ({size}): conda install {name}={spec}",
        )
    elif pa.get("build") != pb.get("build"):
        spec = f"{pa['version']}={pa.get('build') or ''}"
        out.add(
            "package", f"conda:{name}", spec, f"{pb['version']}={pb.get('build') or ''}",
            "warning",
            f"another conda build of {name} (native code may differ): "
            f"conda install {name}={spec}",
        )
    elif not same(_channel(pa), _channel(pb)):
        out.add(
            "package", f"conda:{name}.channel", _channel(pa), _channel(pb), "info",
            "same version and build from another channel: builds may still differ",
        )


#: conda packages that make up a BLAS implementation (conda-forge's libblas switch, defaults'
#: blas metapackage, the implementations and their OpenMP/TBB runtimes).
_BLAS_PACKAGE = re.compile(
    r"^(?:blas|blas-devel|libblas|libcblas|liblapack|liblapacke|lapack|libopenblas|openblas"
    r"|openblas-devel|libblis|blis|mkl|mkl-.*|mkl_.*|intel-openmp|tbb|libflame|libnetlib.*)$"
)
#: The BLAS implementation a ``libblas``/``blas`` build string names -> its label.
_BLAS_BUILDS = (("mkl", "MKL"), ("openblas", "OpenBLAS"), ("blis", "BLIS"),
                ("accelerate", "Accelerate"), ("netlib", "reference BLAS"))
_BLAS_TOKENS = {label: token for token, label in _BLAS_BUILDS}


def blas_implementation(packages: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """The BLAS implementation a conda environment selected (by conda-forge's ``libblas`` or the
    ``blas`` metapackage build string), else the one implementation installed; None: unknown."""
    for switch in ("libblas", "blas"):
        p = packages.get(switch)
        if p is not None:
            build = str(p.get("build") or "").lower()
            for token, label in _BLAS_BUILDS:
                if token in build:
                    return label
    has_mkl = "mkl" in packages
    has_openblas = "libopenblas" in packages or "openblas" in packages
    if has_mkl != has_openblas:
        return "MKL" if has_mkl else "OpenBLAS"
    return None


# --- Schema 3: a distribution is its content ----------------------------------------------------

#: Origin fields still compared when a side records a content digest: what it is, not how it came.
CONTENT_ORIGIN_FIELDS: Tuple[str, ...] = ("editable", "vcs", "commit")
#: Files a content finding names.
NAMED_FILES = 3


def files_differ(a: List[str], b: List[str]) -> List[str]:
    """Paths whose entry differs (hash or size) or that one side's RECORD lines lack, sorted."""
    ea = {line.rsplit(",", 2)[0]: line for line in a}
    eb = {line.rsplit(",", 2)[0]: line for line in b}
    return sorted(p for p in ea.keys() | eb.keys() if ea.get(p) != eb.get(p))


def _records(digest: str) -> Optional[List[str]]:
    # RECORD lists this process read (a capture) or a store snapshots came from has.
    from ..collect.packages import record_lines

    return record_lines(digest)


def _by_content(out: Findings, key: str, name: str, pa: Dict[str, Any], pb: Dict[str, Any]) -> None:
    """Same version where a side records a content digest (schema 3): its content and what it
    is (editable, VCS commit) are compared, never its installer or archive URL (instance)."""
    for field in CONTENT_ORIGIN_FIELDS:
        va, vb = pa.get(field), pb.get(field)
        if field == "editable":
            va, vb = bool(va), bool(vb)
        if not same(va, vb):
            out.add(
                "package", f"{key}.{field}", va, vb, "warning",
                f"same version number from another source ({field}): other code may be "
                f"running; install {name} the way the baseline did",
            )
            return
    ca, cb = pa.get("content"), pb.get("content")
    if not ca or not cb or ca == cb:
        return  # unknown on a side (schema 2, no RECORD): not evidence
    la, lb = _records(ca), _records(cb)
    if la is not None and lb is not None:
        changed = files_differ(la, lb)
        shown = ", ".join(changed[:NAMED_FILES])
        more = f" and {len(changed) - NAMED_FILES} more" if len(changed) > NAMED_FILES else ""
        what = f"{len(changed)} file(s) differ ({shown}{more})"
    else:
        what = "its installed files differ (content digest; the file lists are not at hand)"
    out.add(
        "package", f"{key}.content", ca[:12], cb[:12], "warning",
        f"same version, other files: {what}; another build, or files edited after install: "
        f"reinstall the baseline's wheel of {name}",
    )
