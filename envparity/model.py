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

The measured results (numerics, benchmarks) are in :mod:`envparity.model_measures`, the drift
report in :mod:`envparity.model_report`; every name is importable from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Literal, Optional

from pydantic import Field, field_validator

from .identity import SCHEMA_VERSION as SCHEMA_VERSION
from .identity import fingerprint_data, identity_data
from .model_base import Scalar as Scalar
from .model_base import _instance, _Model
from .model_measures import BenchmarkComparison as BenchmarkComparison
from .model_measures import BenchmarkResult as BenchmarkResult
from .model_measures import BenchmarkRun as BenchmarkRun
from .model_measures import BenchmarkVerdict as BenchmarkVerdict
from .model_measures import ColumnTolerance as ColumnTolerance
from .model_measures import MemoryVerdict as MemoryVerdict
from .model_measures import NumericResult as NumericResult
from .model_measures import RunConditions as RunConditions
from .model_measures import WorkerConditions as WorkerConditions
from .model_report import DRIFT_REPORT_VERSION as DRIFT_REPORT_VERSION
from .model_report import SEVERITIES as SEVERITIES
from .model_report import Category as Category
from .model_report import DriftReport as DriftReport
from .model_report import FailOn as FailOn
from .model_report import Finding as Finding
from .model_report import GroupMember as GroupMember
from .model_report import PolicyChange as PolicyChange
from .model_report import PolicyEffect as PolicyEffect
from .model_report import RelevanceNote as RelevanceNote
from .model_report import Severity as Severity
from .model_report import SnapshotSummary as SnapshotSummary
from .model_report import Waiver as Waiver


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
