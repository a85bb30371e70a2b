"""Simple field rules as data: one row per field, read by the engine.

A row says: in snapshot ``section``, when ``field`` differs, report a finding of ``severity``
whose text is ``why`` (what the difference does) then ``todo`` (what to do). ``{baseline}`` and
``{candidate}`` in either are replaced by the two values. ``category`` and ``key`` name the
finding when they differ from the section and field.

Adding a simple rule is one row here (and one parametrized row in tests/diff/test_diff_rules.py).
Comparisons that need code (packages, CPU flags, GPUs, BLAS runtimes, variables grouped by root
cause, measurements) live in the sibling modules; their severities are listed in :data:`CODED`
so the README's severity table covers them too.
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
    """A comparison written as code, listed for the README's severity table."""

    what: str
    severity: str
    where: str


#: Severities of the comparisons that need code (kept in step with the code by tests).
CODED: Tuple[Coded, ...] = (
    Coded("package removed", "error", "packages"),
    Coded("package major version or epoch changed", "error", "packages"),
    Coded("ML library whose models/pickles do not survive the change (table below)", "error",
          "packages"),
    Coded("package minor version changed", "warning", "packages"),
    Coded("same version, another build (local label, wheel tag)", "warning", "packages"),
    Coded("same version from another source (editable, VCS, URL)", "warning", "packages"),
    Coded("package patch/pre/post release, added, installer", "info", "packages"),
    Coded("Python minor version", "error", "python"),
    Coded("Python patch version", "info", "python"),
    Coded("time zone (TZ, zone name, UTC offset): one finding", "warning", "variables"),
    Coded("locale and text encoding (effective values): one finding", "warning", "variables"),
    Coded("thread count (variable and each BLAS/OpenMP runtime it changed): one finding",
          "warning", "variables"),
    Coded("determinism variable (PYTHONHASHSEED, CUBLAS_WORKSPACE_CONFIG, ...)", "error",
          "variables"),
    Coded("other threading/code-path variable", "warning", "variables"),
    Coded("framework determinism/precision switch", "error", "variables"),
    Coded("declared seed changed", "error", "variables"),
    Coded("CUDA_VISIBLE_DEVICES, LD_PRELOAD, LD_LIBRARY_PATH", "warning", "variables"),
    Coded("CPU usable cores", "warning", "devices"),
    Coded("vector ISA flag (avx, fma, amx, neon, ...) lost", "warning", "devices"),
    Coded("GPUs gone (the model runs on CPU)", "error", "devices"),
    Coded("GPU model, count, compute capability, driver", "warning", "devices"),
    Coded("CUDA runtime, cuDNN version", "warning", "devices"),
    Coded("BLAS/OpenMP vendor, version, kernel architecture, runtime added/removed", "warning",
          "devices"),
    Coded("probe error on one side (incomplete comparison)", "warning", "engine"),
    Coded("the same probe error on both sides", "info", "engine"),
    Coded("numeric probe outside tolerance", "error", "measured"),
    Coded("benchmark significantly slower", "warning", "measured"),
)
