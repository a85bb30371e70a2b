"""The snapshot: a pydantic model of everything envparity records about an environment.

Schema history (bump ``SCHEMA_VERSION`` and add a line when a stored field changes meaning):
  1 -- envparity 0.1: first version.
  2 -- BLAS/OpenMP entries keyed by owner and API (``key``, ``owner``, ``state``, ``detail``);
       effective hash seed (``determinism.hash_randomization``, ``determinism.hash_seed``);
       variables libraries set at import (``determinism.library_env``, instance); framework
       switches out of the identity; build provenance and ``tool`` on packages;
       ``conda_packages``; CPU family/model/stepping and microcode; ``numpy_simd``.
       Version-1 snapshots still load: a field a side lacks is unknown there.
  3 -- a distribution is its content: ``content`` (digest over its RECORD) is identity, its
       ``installer`` and ``url`` (archive origin) are instance values (kept as identity without
       RECORD, and ``url`` for editable/VCS installs); ``accelerator`` is instance (read only
       where a framework was imported); ``collection.notes``. A snapshot's fingerprint is
       computed with the rules of its own schema_version: older snapshots keep theirs.

Fields marked ``instance=True`` in their ``json_schema_extra`` belong to one process or machine
(hostname, pid, paths, UUIDs, times, timings). They are stored and shown, but they are left out
of the fingerprint and never make drift findings: see :func:`identity`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Final, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .identity import SCHEMA_VERSION as SCHEMA_VERSION
from .identity import fingerprint_data, identity_data
from .severity import SEVERITIES as _SEVERITIES

# A JSON scalar: what framework switches and declared seeds hold.
Scalar = Union[bool, int, float, str, None]

_INSTANCE: Dict[str, Any] = {"instance": True}


def _instance(default: Any = None, **kwargs: Any) -> Any:
    """A field that describes this process or machine, not the environment."""
    if "default_factory" in kwargs:
        return Field(json_schema_extra=_INSTANCE, **kwargs)
    return Field(default, json_schema_extra=_INSTANCE, **kwargs)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


def _package_text(value: str) -> str:
    # No newline, control character, whitespace or leading '-' in a package name or version: an
    # export writes them into files pip obeys (envparity.distnames).
    from .distnames import check

    return check(value)


class Package(_Model):
    """One installed distribution."""

    name: str = Field(description="PEP 503 normalized name.")
    version: str = Field(description="The version as written in its metadata (local label kept).")
    installer: Optional[str] = _instance(
        description="INSTALLER file (pip, uv, conda); identity only without a content digest."
    )
    editable: bool = False
    vcs: Optional[str] = Field(None, description="VCS of a direct-URL install, e.g. git.")
    url: Optional[str] = _instance(
        description="Direct-URL origin, credentials stripped; identity only for editable and VCS "
        "installs and without a content digest."
    )
    commit: Optional[str] = Field(None, description="VCS commit of a direct-URL install.")
    location: Optional[str] = _instance(description="The sys.path entry it was found in.")
    wheel_tags: List[str] = Field(
        default_factory=list,
        description="Tag lines of its WHEEL file, e.g. cp311-cp311-linux_x86_64.",
    )
    root_is_purelib: Optional[bool] = Field(None, description="Root-Is-Purelib of its WHEEL file.")
    built_locally: Optional[bool] = Field(
        None,
        description="Built from source on this side: a WHEEL tag no installer would download "
        "(linux_*), or installed from a local directory or source archive.",
    )
    tool: bool = Field(
        False,
        description="envparity itself or a dependency only it needs: recorded, out of the "
        "fingerprint; one side only is not drift.",
    )
    content: Optional[str] = Field(
        None,
        description="sha256 over the files its RECORD lists (path and hash; installer files, "
        "byte code and files outside the install root left out). Null: no RECORD, or editable.",
    )

    @field_validator("name", "version")
    @classmethod
    def _safe_text(cls, value: str) -> str:
        return _package_text(value)


class CondaPackage(_Model):
    """One package of a conda environment's ``conda-meta``."""

    name: str
    version: str
    build: str = Field("", description="conda build string, e.g. h2d74725_1.")
    channel: Optional[str] = Field(None, description="Channel name or URL, credentials stripped.")

    @field_validator("name", "version")
    @classmethod
    def _safe_text(cls, value: str) -> str:
        return _package_text(value)


class PythonInfo(_Model):
    implementation: str
    version: str = Field(description="Full version, e.g. 3.11.7.")
    build: str = ""
    compiler: str = ""
    abi_flags: str = ""
    gil_disabled: bool = False
    executable: str = _instance("")
    prefix: str = _instance("")
    virtualenv: bool = False
    conda_env: Optional[str] = None


class TzRules(_Model):
    """The time-zone rules in use: which database, its version, and what chose it."""

    source: Optional[str] = Field(
        None, description="The database zoneinfo reads: a directory, or tzdata (the package)."
    )
    version: Optional[str] = Field(None, description="Its version, e.g. 2024a.")
    tzpath: List[str] = Field(default_factory=list, description="zoneinfo.TZPATH.")
    tzdir: Optional[str] = Field(None, description="TZDIR: the C library's database.")
    tzdata: Optional[str] = Field(None, description="The tzdata package's version.")
    pytz: Optional[str] = Field(None, description="The pytz package's version (its own rules).")


class PlatformInfo(_Model):
    system: str = ""
    kernel: str = ""
    arch: str = ""
    os_id: Optional[str] = None
    os_name: Optional[str] = None
    os_version: Optional[str] = None
    libc: Optional[str] = None
    libc_version: Optional[str] = None
    timezone: Optional[str] = Field(
        None, description="IANA name when known, else the abbreviation."
    )
    utc_offset_minutes: Optional[int] = None
    locale: Optional[str] = None
    preferred_encoding: Optional[str] = None
    filesystem_encoding: Optional[str] = None
    tz_rules: Optional[TzRules] = None
    hostname: Optional[str] = _instance()
    pid: Optional[int] = _instance()
    container_id: Optional[str] = _instance()
    k8s_pod: Optional[str] = _instance()
    k8s_namespace: Optional[str] = _instance()


class CpuInfo(_Model):
    vendor: Optional[str] = None
    model: Optional[str] = None
    logical_cores: Optional[int] = None
    physical_cores: Optional[int] = None
    affinity_cores: Optional[int] = Field(None, description="Cores this process may run on.")
    cgroup_quota_cores: Optional[float] = Field(None, description="cgroup CPU quota in cores.")
    usable_cores: Optional[int] = Field(None, description="min(affinity, ceil(quota)).")
    flags: List[str] = Field(default_factory=list, description="ISA flags that pick numeric paths.")
    max_mhz: Optional[float] = None
    family: Optional[int] = Field(None, description="CPU family number (/proc/cpuinfo).")
    model_number: Optional[int] = Field(None, description="CPU model number (/proc/cpuinfo).")
    stepping: Optional[int] = None
    microcode: Optional[str] = _instance(description="Microcode revision.")


class MemoryInfo(_Model):
    total_bytes: Optional[int] = None
    cgroup_limit_bytes: Optional[int] = None


class Gpu(_Model):
    name: str
    memory_bytes: Optional[int] = None
    compute_capability: Optional[str] = None
    index: int = _instance(0)
    uuid: Optional[str] = _instance()
    pci_bus_id: Optional[str] = _instance()


class GpuInfo(_Model):
    """GPUs as NVML sees them; ``state`` says why the list may be empty."""

    state: Literal["ok", "no_library", "no_gpu", "error"] = "no_library"
    detail: Optional[str] = Field(None, description="Why, when state is not ok.")
    driver_version: Optional[str] = None
    cuda_driver_version: Optional[str] = None
    devices: List[Gpu] = Field(default_factory=list)


class AcceleratorInfo(_Model):
    """CUDA runtime, cuDNN and NCCL as an already-imported framework reports them.

    Instance values (schema 3): they are known only where a framework was imported, and the
    installed packages already fix them. Compared, never part of the fingerprint.
    """

    source: Optional[str] = _instance(description="The framework that reported these.")
    cuda_runtime: Optional[str] = _instance()
    cudnn: Optional[str] = _instance()
    nccl: Optional[str] = _instance()


class BlasLibrary(_Model):
    """A BLAS or OpenMP runtime, loaded or vendored by an installed distribution."""

    key: str = Field(
        "", description="owner/user_api, e.g. numpy/blas, scikit-learn/openmp (empty in v1)."
    )
    owner: Optional[str] = Field(
        None, description="Distribution that vendors it (normalized), or 'system'."
    )
    state: Literal["ok", "unknown"] = Field(
        "ok", description="unknown: vendored but could not be loaded or read (see detail)."
    )
    detail: Optional[str] = _instance(description="Why the state is unknown.")
    user_api: str
    internal_api: str
    prefix: str
    version: Optional[str] = None
    threading_layer: Optional[str] = None
    architecture: Optional[str] = None
    num_threads: Optional[int] = None
    filepath: str = _instance("")


class LibraryEnv(_Model):
    """A variable a library set in os.environ when it was imported (not the user's choice)."""

    value: str
    set_by: str = Field(description="The library, e.g. scikit-learn.")
    source: str = Field(description="Where the library does it, e.g. sklearn/__init__.py.")


class Determinism(_Model):
    env: Dict[str, str] = Field(
        default_factory=dict, description="Variables that steer determinism and threading."
    )
    hash_randomization: Optional[bool] = Field(
        None, description="sys.flags.hash_randomization of the captured interpreter."
    )
    hash_seed: Optional[str] = Field(
        None,
        description="Hash seed the interpreter started with: the PYTHONHASHSEED integer, or "
        "'random'. Never a later os.environ value.",
    )
    frameworks: Dict[str, Dict[str, Scalar]] = _instance(
        default_factory=dict,
        description="Switches of imported frameworks, by framework (compared, not identity).",
    )
    library_env: Dict[str, LibraryEnv] = _instance(
        default_factory=dict, description="Variables libraries set at import, kept out of env."
    )


class Seeds(_Model):
    declared: Dict[str, Scalar] = Field(
        default_factory=dict, description="Seeds given to seed_everything/record_seed."
    )
    state_digests: Dict[str, str] = _instance(
        default_factory=dict, description="sha256 prefixes of in-process RNG states."
    )


class CodeInfo(_Model):
    commit: Optional[str] = None
    branch: Optional[str] = None
    dirty: Optional[bool] = None
    remotes: Dict[str, str] = Field(default_factory=dict)


class ColumnTolerance(_Model):
    """A per-column override of a probe's tolerances (``register_probe(columns=...)``)."""

    rtol: Optional[float] = None
    atol: Optional[float] = None
    exact: bool = False


class NumericResult(_Model):
    """A numeric probe's output: stored whole (compressed, up to a cap), its digest, a sample.

    ``output`` is the base64 of the zlib-compressed canonical encoding (envparity.parity.encode);
    ``sha256`` digests that encoding uncompressed and is the content key in the store. An output
    whose compressed size is over ``max_bytes`` is not kept (``partial``): only the digest and
    the sample remain, and a comparison with it is partial, never a match.
    """

    name: str
    status: Literal["ok", "skipped", "failed"] = "ok"
    reason: Optional[str] = None
    kind: Optional[Literal["builtin", "convention", "user"]] = Field(
        None, description="builtin, convention (a setting explains it) or user (register_probe)."
    )
    rtol: float = 1e-6
    atol: float = 1e-9
    columns: Dict[str, ColumnTolerance] = Field(
        default_factory=dict, description="Per-column tolerance overrides."
    )
    dtype: Optional[str] = None
    shape: List[int] = Field(default_factory=list)
    sha256: Optional[str] = Field(None, description="Digest of the full output's encoding.")
    values: List[float] = Field(default_factory=list, description="Evenly spaced sample.")
    output: Optional[str] = Field(
        None, description="The whole output: base64 of its zlib-compressed encoding."
    )
    output_bytes: Optional[int] = Field(None, description="Compressed size of the output.")
    max_bytes: Optional[int] = Field(None, description="The cap on output_bytes it ran with.")
    partial: bool = Field(False, description="Output over the cap: not kept whole.")
    wall_s: Optional[float] = Field(None, description="Wall time of the probe's call.")
    peak_bytes: Optional[int] = Field(
        None, description="Peak Python allocations during the call (tracemalloc)."
    )
    loaded: List[str] = Field(
        default_factory=list, description="Top-level modules loaded when the probe ran."
    )
    setting: Optional[str] = Field(None, description="The setting that explains its output.")
    settings: Dict[str, Optional[str]] = Field(
        default_factory=dict, description="Values of the settings it names, when it ran."
    )


class BenchmarkResult(_Model):
    name: str
    status: Literal["ok", "skipped", "failed"] = "ok"
    reason: Optional[str] = None
    unit: str = "s"
    loops: int = 1
    samples: List[List[float]] = Field(
        default_factory=list, description="Seconds per loop, one list per worker process."
    )
    peak_memory_bytes: Optional[int] = Field(
        None,
        description="Peak memory of one call: the median over worker processes of peaks_bytes "
        "(the GPU's own peak for CUDA benchmarks).",
    )
    peaks_bytes: List[int] = Field(
        default_factory=list,
        description="Peak Python allocations (tracemalloc) of one untimed call, per worker "
        "process; empty in runs recorded before it was kept.",
    )


class WorkerConditions(_Model):
    """What the machine did while one worker process timed its benchmarks."""

    seconds: float = Field(description="Wall time of the worker's measured section.")
    cpus: int = Field(description="CPUs the worker could run on (its affinity set).")
    own_cpu_s: float = Field(description="CPU time the worker itself used, all its threads.")
    others_cpu_s: Optional[float] = Field(
        None, description="CPU time other processes used on those CPUs (/proc/stat busy less own)."
    )
    steal_s: Optional[float] = Field(None, description="CPU steal on those CPUs (hypervisor).")
    run_queue_wait_s: Optional[float] = Field(
        None, description="Time the worker's threads waited for a CPU (schedstat)."
    )
    throttled_s: Optional[float] = Field(None, description="cgroup quota throttling.")
    freq_mhz: Optional[float] = None
    contention: Optional[float] = Field(
        None,
        description="Share of the worker's CPUs held by others: (others + steal + throttled) / "
        "(seconds x cpus).",
    )


class RunConditions(_Model):
    """The conditions a benchmark run was captured under (instance values, not identity)."""

    load_avg: Optional[List[float]] = Field(None, description="1, 5, 15 min, at the start.")
    load_avg_end: Optional[List[float]] = None
    cpu_count: Optional[int] = None
    affinity_cpus: Optional[int] = None
    quota_cpus: Optional[float] = Field(None, description="cgroup CPU quota; null: unlimited.")
    freq_mhz: Optional[float] = Field(None, description="Mean current frequency at the start.")
    governor: Optional[str] = None
    workers: List[WorkerConditions] = Field(default_factory=list)
    contention: Optional[float] = Field(
        None, description="The median worker's contention (null: /proc/stat not readable)."
    )
    contended_workers: int = 0
    contended: bool = Field(
        False,
        description="True when the median worker was contended: a comparison with this run "
        "holds back any call on CPU benchmarks that contention could have caused.",
    )
    warning: Optional[str] = None


class BenchmarkRun(_Model):
    suite: str
    processes: int = Field(
        description="Worker processes started: the suite's number, or down to its minimum when "
        "its time budget ran out first."
    )
    wall_seconds: float
    results: List[BenchmarkResult] = Field(default_factory=list)
    conditions: Optional[RunConditions] = Field(
        None, description="Load, steal, others' CPU time, frequency; null in older runs."
    )
    python: Optional[str] = Field(
        None, description="The interpreter the workers ran (bench --against records both)."
    )
    env: Dict[str, str] = Field(
        default_factory=dict, description="Variables set for the workers (--env/--against-env)."
    )


class ProbeFailure(_Model):
    probe: str
    message: str
    path: Optional[str] = None


class Collection(_Model):
    envparity_version: str
    durations_ms: Dict[str, float] = Field(default_factory=dict)
    errors: List[ProbeFailure] = Field(default_factory=list)
    interpreter: Optional[str] = Field(None, description="--python target, when not this one.")
    notes: List[str] = Field(
        default_factory=list,
        description="How something was recorded, e.g. distributions without RECORD compared by "
        "origin (schema 3; not failures).",
    )


class ModelArtifact(_Model):
    """A model file and what it needs, read without loading it (``snapshot --model``)."""

    path: str = Field(description="The path or ref as given (a directory's files joined to it).")
    kind: str = Field(description="pickle, joblib, joblib (zlib), torch, onnx or mlflow.")
    sha256: Optional[str] = Field(None, description="Of the file (null for an MLflow directory).")
    size: Optional[int] = None
    globals: List[str] = Field(
        default_factory=list, description="module.name of every class/function it references."
    )
    needs: Dict[str, str] = Field(
        default_factory=dict,
        description="Installed distribution -> why: the global it owns, or 'required by X'.",
    )
    unresolved: List[str] = Field(
        default_factory=list, description="Top-level modules no installed distribution owns."
    )
    requirements: List[str] = Field(default_factory=list, description="MLflow requirements.")
    flavors: List[str] = Field(default_factory=list, description="MLflow flavors.")
    python: Optional[str] = Field(None, description="MLflow python_env.yaml's Python.")
    opsets: Dict[str, int] = Field(default_factory=dict, description="ONNX opsets by domain.")
    producer: Optional[str] = Field(None, description="ONNX producer name and version.")
    ir_version: Optional[int] = None


class Relevance(_Model):
    """What can reach the model: loaded distributions and model artifacts (instance data)."""

    loaded: Optional[List[str]] = Field(
        None,
        description="Distributions with a module in sys.modules when an in-process snapshot "
        "was taken; null: not taken in-process.",
    )
    dependencies: Dict[str, str] = Field(
        default_factory=dict, description="The loaded ones' installed requirements -> why."
    )
    models: List[ModelArtifact] = Field(default_factory=list)


class Snapshot(_Model):
    """Everything envparity records about one environment at one moment."""

    schema_version: Literal[1, 2, 3] = SCHEMA_VERSION
    snapshot_id: str = _instance()
    fingerprint: str = _instance("")
    captured_at: datetime = _instance()
    role: str = _instance("")
    labels: Dict[str, str] = _instance(default_factory=dict)
    packages: List[Package] = Field(default_factory=list, description="Sorted by name.")
    shadowed: List[Package] = Field(
        default_factory=list, description="Distributions hidden by an earlier sys.path entry."
    )
    conda_packages: List[CondaPackage] = Field(
        default_factory=list, description="conda-meta packages when the interpreter is conda's."
    )
    python: PythonInfo
    platform: PlatformInfo = Field(default_factory=PlatformInfo)
    cpu: CpuInfo = Field(default_factory=CpuInfo)
    memory: MemoryInfo = Field(default_factory=MemoryInfo)
    gpus: GpuInfo = Field(default_factory=GpuInfo)
    accelerator: AcceleratorInfo = Field(default_factory=AcceleratorInfo)
    blas: List[BlasLibrary] = Field(default_factory=list)
    determinism: Determinism = Field(default_factory=Determinism)
    seeds: Seeds = Field(default_factory=Seeds)
    code: Optional[CodeInfo] = None
    env: Dict[str, str] = Field(default_factory=dict)
    numerics: Optional[List[NumericResult]] = _instance()
    numpy_simd: Optional[Dict[str, List[str]]] = _instance(
        description="NumPy's SIMD baseline and dispatched features (with --numerics only)."
    )
    benchmarks: Optional[BenchmarkRun] = _instance()
    relevance: Optional[Relevance] = _instance(
        description="What can reach the model (loaded distributions, model artifacts)."
    )
    collection: Collection = _instance()

    @field_validator("captured_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("captured_at must carry a time zone (UTC)")
        return value

    def with_fingerprint(self) -> Snapshot:
        """A copy whose ``fingerprint`` is computed from its identity fields."""
        return self.model_copy(update={"fingerprint": fingerprint(self)})


def identity(snapshot: Snapshot) -> Dict[str, Any]:
    """The snapshot's environment identity (JSON types): every field but the instance-only ones."""
    return identity_data(snapshot.model_dump(mode="json"))


def fingerprint(snapshot: Snapshot) -> str:
    """sha256 over the canonical JSON of :func:`identity` (see ``envparity.identity``)."""
    return fingerprint_data(snapshot.model_dump(mode="json"))


# --- Drift reports (schemas/drift-report.v1.json) --------------------------------------------

DRIFT_REPORT_VERSION: Final = 1

Severity = Literal["info", "warning", "error"]
SEVERITIES = _SEVERITIES  # ascending; defined once in envparity.drift.severity
FailOn = Literal["info", "warning", "error", "never"]
Category = Literal[
    "collection",
    "package",
    "python",
    "platform",
    "cpu",
    "memory",
    "gpu",
    "accelerator",
    "blas",
    "determinism",
    "seed",
    "env",
    "code",
    "numerics",
    "benchmark",
    "policy",
]


class GroupMember(_Model):
    """One package of a grouped finding ("12 packages the model never loads changed")."""

    key: str
    baseline: Scalar = None
    candidate: Scalar = None
    severity: Severity = "info"
    why: str = ""


class Waiver(_Model):
    """The waiver that covers a finding (``[[tool.envparity.waive]]`` or ``--waive``)."""

    key: str = Field(description='The finding, "category:key".')
    rule: str = Field(description="The waiver's key pattern.")
    reason: str
    until: Optional[str] = Field(None, description="ISO date; null: no end date.")
    expired: bool = Field(False, description="True once until has passed.")


class Finding(_Model):
    """One difference between two environments, and what it means."""

    category: Category
    key: str = Field(description="What differs, e.g. numpy, PYTHONHASHSEED, cpu.flags.avx512f.")
    baseline: Scalar = Field(description="The baseline's value; null when absent there.")
    candidate: Scalar = Field(description="The candidate's value; null when absent there.")
    change: Literal["added", "removed", "changed", "incomplete"] = Field(
        description="incomplete: a probe failed, so the comparison could not be made."
    )
    severity: Severity
    why: str = Field(description="One line a person understands, saying what to do.")
    related: List[str] = Field(
        default_factory=list,
        description='Other "category:key" names this root cause covers (e.g. env:TZ).',
    )
    severity_reason: str = Field(
        "",
        description="Why it has its severity (e.g. 'needed by model.pkl (sklearn...)', "
        "'installer/build tool: never affects results', a policy rule or a waiver).",
    )
    members: List[GroupMember] = Field(
        default_factory=list, description="The packages a grouped finding stands for."
    )
    waived: Optional[Waiver] = None


class RelevanceNote(_Model):
    """Where the report's relevance came from."""

    known: bool = False
    note: str = ""
    sources: List[str] = Field(default_factory=list)


class PolicyChange(_Model):
    """A finding whose severity the policy changed."""

    key: str
    before: str
    after: str
    rule: str


class PolicyEffect(_Model):
    """The policy that applied and what it changed."""

    source: Optional[str] = Field(None, description="The file; null: the default policy.")
    table: Optional[str] = None
    ignored: List[str] = Field(default_factory=list, description="Findings it dropped.")
    changed: List[PolicyChange] = Field(default_factory=list)
    waived: List[Waiver] = Field(default_factory=list)
    expired: List[Waiver] = Field(default_factory=list)


BenchmarkVerdict = Literal[
    "faster", "slower", "same", "inconclusive", "unstable", "missing", "failed", "skipped"
]
MemoryVerdict = Literal["more", "less", "same", "inconclusive"]


class BenchmarkComparison(_Model):
    """One benchmark, baseline against candidate: the ratio of their times with its interval.

    ``same`` only when the whole interval lies within the minimum effect (equivalence);
    ``inconclusive`` when the interval neither rules a difference in nor out (its bounds are the
    plausible range); ``unstable`` when the processes disagree too much or a side ran under
    contention that could have caused the difference.
    """

    name: str
    verdict: BenchmarkVerdict
    ratio: Optional[float] = Field(
        None,
        description="Candidate time over baseline time (>1: slower), each its fastest worker "
        "process's fastest sample (paired runs: the center of the per-round ratios).",
    )
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    confidence: float = 0.99
    p_value: Optional[float] = None
    min_effect: float = 0.05
    paired: bool = Field(False, description="From bench --against: workers interleaved A, B.")
    baseline_median_s: Optional[float] = Field(
        None,
        description="The baseline's time: its fastest process's fastest sample, seconds per "
        "loop (the name is kept from schema 1).",
    )
    candidate_median_s: Optional[float] = Field(
        None,
        description="The candidate's time: its fastest process's fastest sample, seconds per "
        "loop.",
    )
    why: str = ""
    detectable_effect: Optional[float] = Field(
        None,
        description="The smallest effect this comparison could have called, as a fraction "
        "(0.25: 25% slower, or 1.25x faster), from the width of its interval; None without an "
        "interval or with too few paired rounds to call anything.",
    )
    contended_sides: List[str] = Field(
        default_factory=list, description="Sides whose conditions held a call back."
    )
    baseline_conditions: Optional[str] = Field(None, description="One line: load, others, steal.")
    candidate_conditions: Optional[str] = None
    memory_verdict: Optional[MemoryVerdict] = None
    memory_ratio: Optional[float] = Field(
        None, description="Candidate peak allocations over the baseline's (median processes)."
    )
    baseline_peak_bytes: Optional[int] = None
    candidate_peak_bytes: Optional[int] = None
    memory_why: str = ""


class SnapshotSummary(_Model):
    """Which snapshot a report side is."""

    ref: str = Field(description="The ref as the user gave it.")
    snapshot_id: str
    fingerprint: str
    role: str = ""
    labels: Dict[str, str] = Field(default_factory=dict)
    captured_at: datetime
    hostname: Optional[str] = None


class DriftReport(_Model):
    """The result of ``diff(baseline, candidate, policy)``."""

    schema_version: Literal[1] = DRIFT_REPORT_VERSION
    baseline: SnapshotSummary
    candidate: SnapshotSummary
    verdict: Literal["none", "info", "warning", "error"]
    fail_on: FailOn = "error"
    failed: bool = Field(description="True when the verdict reaches fail_on.")
    counts: Dict[str, int] = Field(default_factory=dict, description="Findings per severity.")
    findings: List[Finding] = Field(default_factory=list)
    benchmarks: List[BenchmarkComparison] = Field(default_factory=list)
    not_compared: List[str] = Field(
        default_factory=list,
        description="Baseline facts that could not be checked (at start-up: the switches of a "
        "framework the server has not imported yet, probe outputs): the verdict covers only "
        "what was compared.",
    )
    relevance: Optional[RelevanceNote] = None
    policy: Optional[PolicyEffect] = None
