"""Package drift: versions, builds and origins, with ML-aware severities from a cited table.

Semantic versioning says a minor release is compatible; for libraries whose fitted models or
pickles are tied to the version that wrote them it is not, so :data:`ML_PACKAGES` raises their
version changes (the tables are in :mod:`.package_tables`). Each row cites the source of the
rule; ``policy`` can still lower any of them (``"package:scikit-learn" = "info"``).
:data:`BREAKS` adds advice for known behavioural breaks when a change crosses a release. Sources
stay in the tables (and the README), not in the findings' text, so reports hold no links.

Relevance (issue 24, :mod:`envparity.relevance.relevant`) then decides how much of that applies:
a package the baseline shows the model cannot reach is at most info and folded into one finding
per kind; installers are always info; calendar versions never count a year as a major; time-zone
data is judged as a time zone database release. Each finding carries its ``severity_reason``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple

from ..relevance.relevant import INSTALLERS, TZ_DATA, RelevantSet
from .findings import Findings, same
from .package_tables import BREAKS as BREAKS
from .package_tables import BUILD_FIELDS, INSTALLER_REASON, ORIGIN_FIELDS, UNKNOWN_REASON
from .package_tables import GROUPS as GROUPS
from .package_tables import ML_BY_NAME as ML_BY_NAME
from .package_tables import ML_PACKAGES as ML_PACKAGES
from .versions import tz_change
from .versions import version_change as version_change

if TYPE_CHECKING:
    from .._shapes_snapshot import CondaPackage, Package


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
    base: List[Package],
    cand: List[Package],
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
            va: Any  # a field named at run time: its JSON value, or the text shown for it
            vb: Any
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
    out: Findings, key: str, name: str, pa: Package, pb: Package, judge: _Judge
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


def conda(out: Findings, base: List[CondaPackage], cand: List[CondaPackage]) -> None:
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


def _conda_differs(pa: Optional[CondaPackage], pb: Optional[CondaPackage]) -> bool:
    if pa is None or pb is None:
        return True
    return (pa["version"], pa.get("build")) != (pb["version"], pb.get("build")) or not same(
        _channel(pa), _channel(pb)
    )


def _channel(package: CondaPackage) -> Optional[str]:
    from ..collect.conda import conda_channel

    return conda_channel(package.get("channel"))  # a schema-2 side wrote the raw spelling


def _conda_one(
    out: Findings, name: str, pa: Optional[CondaPackage], pb: Optional[CondaPackage]
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


def blas_implementation(packages: Mapping[str, CondaPackage]) -> Optional[str]:
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


def _by_content(out: Findings, key: str, name: str, pa: Package, pb: Package) -> None:
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
