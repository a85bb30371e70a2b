"""What a snapshot measures and a report compares: numeric probe results, benchmark runs with the
conditions they ran under, and a benchmark's baseline-against-candidate comparison."""

from __future__ import annotations

from typing import Dict, List, Literal, Optional

from pydantic import Field

from .model_base import _Model


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
