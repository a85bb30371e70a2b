"""Simple field rules as data: one row per field, read by the engine.

A row says: in snapshot ``section``, when ``field`` differs, report a finding of ``severity``
whose text is ``why`` (what the difference does) then ``todo`` (what to do). ``{baseline}`` and
``{candidate}`` in either are replaced by the two values. ``category`` and ``key`` name the
finding when they differ from the section and field.

Adding a simple rule is one row here (and one parametrized row in tests/diff/test_diff_rules.py).
Comparisons that need code (packages, CPU flags, GPUs, BLAS runtimes, variables grouped by root
cause, measurements) live in the sibling modules; their severities are listed in :data:`CODED`
so the generated severity table (docs/severity.md) covers them too.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple


class Rule(NamedTuple):
    section: str
    field: str
    severity: str
    why: str
    todo: str
    category: Optional[str] = None
    key: Optional[str] = None
    #: The snapshot schema version that introduced the field: a side older than that does not
    #: have it (unknown there, no finding).
    since: int = 1

    @property
    def finding_category(self) -> str:
        return self.category or self.section

    @property
    def finding_key(self) -> str:
        return self.key or self.field


R = Rule

FIELD_RULES: Tuple[Rule, ...] = (
    # python
    R("python", "implementation", "error", "another Python implementation",
      "run the candidate on {baseline}"),
    R("python", "abi_flags", "warning", "another ABI build of Python",
      "use the baseline's build"),
    R("python", "gil_disabled", "warning",
      "free-threaded vs GIL build: extensions and thread behaviour differ",
      "use the baseline's build"),
    R("python", "build", "info", "another build of the same version", "usually harmless"),
    R("python", "compiler", "info", "built by another compiler", "usually harmless"),
    R("python", "virtualenv", "info", "virtualenv vs system interpreter", "usually harmless"),
    R("python", "conda_env", "info", "another conda environment name", "usually harmless"),
    # platform
    R("platform", "system", "error", "another operating system",
      "run the candidate on the baseline's OS"),
    R("platform", "arch", "error",
      "another CPU architecture: other wheels and numeric code paths", "use the baseline's"),
    R("platform", "libc", "warning",
      "another C library: libm results (exp, log, pow) may differ in the last bits",
      "use the baseline's base image"),
    R("platform", "libc_version", "warning",
      "another C library version: libm results may differ in the last bits",
      "use the baseline's base image"),
    R("platform", "os_id", "info", "another OS distribution",
      "usually harmless for Python code"),
    R("platform", "os_name", "info", "another OS distribution",
      "usually harmless for Python code"),
    R("platform", "os_version", "info", "another OS release", "usually harmless for Python code"),
    R("platform", "kernel", "info", "another kernel", "usually harmless"),
    # cpu
    R("cpu", "vendor", "warning",
      "another CPU vendor: BLAS and vector libraries pick other kernels, results may differ in "
      "the last bits", "compare numerics (envparity snapshot --numerics)"),
    R("cpu", "model", "info", "another CPU model: speed differs",
      "the ISA flag findings say whether code paths do"),
    R("cpu", "logical_cores", "info", "another core count: speed differs",
      "pin thread counts if results must match"),
    R("cpu", "physical_cores", "info", "another core count: speed differs",
      "pin thread counts if results must match"),
    R("cpu", "affinity_cores", "info", "another core count: speed differs",
      "pin thread counts if results must match"),
    R("cpu", "cgroup_quota_cores", "info", "another core count: speed differs",
      "pin thread counts if results must match"),
    R("cpu", "family", "info", "another CPU generation (family {baseline} -> {candidate})",
      "vector code paths and speed may differ; compare the cpu flags findings", since=2),
    R("cpu", "model_number", "info", "another CPU generation (model {baseline} -> {candidate})",
      "vector code paths and speed may differ; compare the cpu flags findings", since=2),
    R("cpu", "stepping", "info", "another CPU stepping", "usually harmless", since=2),
    R("cpu", "max_mhz", "info", "another clock: speed differs", "nothing to do for results"),
    # memory
    R("memory", "total_bytes", "info", "another memory size",
      "check that batch sizes and caches still fit"),
    R("memory", "cgroup_limit_bytes", "info", "another memory limit",
      "check that batch sizes and caches still fit"),
    # code
    R("code", "commit", "info", "other code", "check out {baseline:.12} to reproduce the baseline"),
    R("code", "branch", "info", "another branch", "see the commit"),
)


class Coded(NamedTuple):
    """A comparison written as code, registered with the findings it emits: their category
    (``where``), key patterns (``keys``, fnmatch globs) and severity. The generated severity table
    lists every row, and :func:`covers` lets a test check that the code emits nothing the table
    lacks."""

    what: str
    severity: str
    where: str  # the finding category
    keys: Tuple[str, ...] = ("*",)


#: Severities of the comparisons that need code (kept in step with the code by tests).
CODED: Tuple[Coded, ...] = (
    Coded("package removed", "error", "package"),
    Coded("package major version or epoch changed", "error", "package"),
    Coded("ML library whose models/pickles do not survive the change (table below)", "error",
          "package"),
    Coded("package minor version changed", "warning", "package"),
    Coded("same version, another build (local label, wheel tag, source build)", "warning",
          "package"),
    Coded("conda package: another version or build, or on one side only", "warning", "package"),
    Coded("conda package from another channel", "info", "package"),
    Coded("same version from another source (editable, VCS, URL)", "warning", "package"),
    Coded("package patch/pre/post release, added, installer", "info", "package"),
    Coded("Python minor version", "error", "python"),
    Coded("Python patch version", "info", "python"),
    Coded("time zone (TZ, zone name, UTC offset): one finding", "warning", "platform"),
    Coded("locale and text encoding (effective values): one finding", "warning", "platform"),
    Coded("thread count (variable and each BLAS/OpenMP runtime it changed): one finding",
          "warning", "determinism"),
    Coded("hash seed in effect (PYTHONHASHSEED at start-up, or random)", "error", "determinism"),
    Coded("determinism variable (CUBLAS_WORKSPACE_CONFIG, MKL_CBWR, ...)", "error",
          "determinism"),
    Coded("other threading/code-path variable", "warning", "determinism"),
    Coded("framework determinism/precision switch", "error", "determinism"),
    Coded("declared seed changed", "error", "seed"),
    Coded("CUDA_VISIBLE_DEVICES, LD_PRELOAD, LD_LIBRARY_PATH", "warning", "env"),
    Coded("CPU usable cores", "warning", "cpu"),
    Coded("vector ISA flag (avx, fma, amx, neon, ...) lost", "warning", "cpu"),
    Coded("GPUs gone (the model runs on CPU)", "error", "gpu"),
    Coded("GPU model, count, compute capability, driver", "warning", "gpu"),
    Coded("CUDA runtime, cuDNN version", "warning", "accelerator"),
    Coded("BLAS/OpenMP vendor, version, kernel architecture, runtime added/removed", "warning",
          "blas"),
    Coded("probe error on one side (incomplete comparison)", "warning", "collection"),
    Coded("the same probe error on both sides", "info", "collection"),
    Coded("numeric probe outside tolerance", "error", "numerics"),
    Coded("benchmark significantly slower", "warning", "benchmark"),
    Coded("benchmark allocates significantly more memory", "warning", "benchmark"),
    Coded("installer/build tool (pip, setuptools, wheel, uv, ...) changed or missing", "info",
          "package"),
    Coded("calendar-versioned package (certifi, ...): another year or month", "warning",
          "package"),
    Coded("time zone database (tzdata, pytz): another release", "warning", "package"),
    Coded("two or more packages missing from the candidate, relevance unknown: one finding",
          "error", "package"),
    Coded("a package the model never loads (relevance known): changed, missing or added; "
          "grouped, one finding per kind", "info", "package"),
    Coded("waiver expired (its findings get their severity back)", "warning", "policy"),
    Coded("CUDA runtime, cuDNN or NCCL reported on one side only (a framework imported there)",
          "info", "accelerator", ("cuda_runtime", "cudnn", "nccl")),
    Coded("uncommitted changes in the candidate's checkout", "warning", "code", ("dirty",)),
    Coded("uncommitted changes in the baseline's checkout only", "info", "code", ("dirty",)),
    Coded("a git checkout on one side only", "info", "code", ("checkout",)),
    Coded("git remote added, removed or moved", "info", "code", ("remote.*",)),
    Coded("vector ISA flag gained (the candidate's CPU can run more kernels)", "info", "cpu",
          ("flags.*",)),
    Coded("other captured variable added, removed or changed (identity class; see Captured "
          "variables)", "info", "env"),
)


def covers(category: str, key: str, severity: str) -> bool:
    """True when a field rule or a registered coded rule emits ``severity`` for ``key`` in
    ``category``: the severity table then describes that finding."""
    from fnmatch import fnmatchcase

    return any(
        r.finding_category == category and r.finding_key == key and r.severity == severity
        for r in FIELD_RULES
    ) or any(
        c.where == category and c.severity == severity
        and any(fnmatchcase(key, pattern) for pattern in c.keys)
        for c in CODED
    )

#: The relevance column: how what the model uses changes a row's severity.
_RELEVANCE = {
    "package": "as shown when the model can use the package (or relevance is unknown); "
    "otherwise at most info",
    "policy": "always",
}
_ALWAYS = "always: not about what the model uses"
_ALWAYS_PACKAGE = (
    "installer/build tool", "a package the model never loads", "conda package",
)


def severity_table() -> str:
    """The severity table (Markdown), generated from the rows above and the ML table, with a
    relevance column.

    ``scripts/gen_severity_table.py`` writes it into docs/severity.md; a test fails when they
    differ.
    """
    from .package_tables import BREAKS, ML_PACKAGES

    lines = [
        "| severity | category | what | relevance | why / what to do |",
        "| --- | --- | --- | --- | --- |",
    ]
    from ..severity import RANK

    rows = [
        (r.severity, r.finding_category, f"`{r.finding_key}` differs", f"{r.why}: {r.todo}")
        for r in FIELD_RULES
    ] + [(c.severity, c.where, c.what, "") for c in CODED]
    for severity, category, what, why in sorted(rows, key=lambda r: (-RANK[r[0]], r[1], r[2])):
        for placeholder in ("{baseline:.12}", "{baseline}"):
            why = why.replace(placeholder, "the baseline's")
        relevance = _RELEVANCE.get(category, _ALWAYS)
        if category == "package" and what.startswith(_ALWAYS_PACKAGE):
            relevance = _ALWAYS
        lines.append(
            f"| {severity} | {category} | {what} | {relevance} | {why.replace('|', '/')} |"
        )
    lines += [
        "",
        "ML libraries whose saved models or pickles are tied to their version (any such change is "
        "raised; a policy can lower it):",
        "",
        "| package | raised | why | source |",
        "| --- | --- | --- | --- |",
    ]
    rule = {
        "minor": "minor/major change: error; patch: warning",
        "downgrade-minor": "minor/major downgrade: error",
    }
    for m in ML_PACKAGES:
        lines.append(f"| {m.name} | {rule[m.rule]} | {m.why} | <{m.source}> |")
    for b in BREAKS:
        release = ".".join(map(str, b.release))
        lines.append(f"| {b.name} | crossing {release}: {b.severity} | {b.advice} | <{b.source}> |")
    return "\n".join(lines) + "\n"
