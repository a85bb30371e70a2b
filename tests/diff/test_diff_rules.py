"""diff(): which differences make findings, with which severity, and what each says to do."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from diff_snapshots import baseline, by_key, changed, found, with_package

from envparity.comparison import compare as diff
from envparity.comparison import reaches
from envparity.model import (
    BenchmarkResult,
    BenchmarkRun,
    BlasLibrary,
    Gpu,
    NumericResult,
)
from envparity.policy import Policy
from envparity.redact import REDACTED

BASE = baseline()


def test_same_environment_elsewhere_gives_no_findings():
    """Another host, pid, container, time, role, GPU order and UUIDs: the same environment."""
    b = BASE
    b = changed(b, "snapshot_id", "c" * 32)
    b = changed(b, "captured_at", BASE.captured_at + timedelta(days=30))
    b = changed(b, "role", "serving")
    b = changed(b, "labels", {"pod": "x"})
    b = changed(b, "platform.hostname", "serving-7")
    b = changed(b, "platform.pid", 1)
    b = changed(b, "platform.container_id", "deadbeef")
    b = changed(b, "platform.k8s_pod", "fraud-5d9")
    b = changed(b, "python.executable", "/usr/bin/python3")
    b = changed(b, "python.prefix", "/usr")
    b = changed(b, "seeds.state_digests", {"random": "zzz", "numpy": "yyy"})
    b = changed(b, "collection.durations_ms", {"packages": 99.0})
    b = changed(
        b,
        "gpus.devices",
        [
            d.model_copy(
                update={"index": 1 - d.index, "uuid": f"GPU-x{d.index}", "pci_bus_id": "z"}
            )
            for d in reversed(BASE.gpus.devices)
        ],
    )
    b = b.model_copy(
        update={"packages": [p.model_copy(update={"location": "/srv/site"}) for p in b.packages]}
    )
    b = changed(b, "blas", [BASE.blas[0].model_copy(update={"filepath": "/srv/libopenblas.so"})])
    report = diff(BASE, b)
    assert report.findings == []
    assert (report.verdict, report.failed) == ("none", False)
    assert report.counts == {"info": 0, "warning": 0, "error": 0}


@pytest.mark.parametrize(
    ("name", "new", "severity"),
    [
        ("numpy", "2.0.0", "error"),  # major up
        ("numpy", "0.9.0", "error"),  # major down
        ("numpy", "1.27.0", "warning"),  # minor up
        ("numpy", "1.25.2", "warning"),  # minor down
        ("numpy", "1.26.5", "info"),  # patch up
        ("numpy", "1.26.3", "info"),  # patch down
        ("numpy", "1.26.4.post1", "info"),
        ("numpy", "1.26.5rc1", "info"),
        ("numpy", "1!1.26.4", "error"),  # epoch
        ("torch", "2.3.1+cu121", "warning"),  # same version, another build
        ("torch", "2.3.2+cu121", "warning"),  # patch, but another build: at least a warning
        ("torch", "3.0.0+cu121", "error"),
        ("numpy", "1.26.4build1", "warning"),  # not PEP 440
        ("numpy", None, "error"),  # removed
        ("pandas", "2.2.1.0", "info"),  # the same version, written differently
    ],
)
def test_package_version_changes(name, new, severity):
    old = next(p.version for p in BASE.packages if p.name == name)
    findings = by_key(BASE, with_package(BASE, name, new))
    assert list(findings) == [f"package:{name}"]
    f = findings[f"package:{name}"]
    assert (f.severity, f.baseline, f.candidate) == (severity, old, new)
    assert f.change == ("removed" if new is None else "changed")
    if f.severity != "info" or "harmless" not in f.why:
        assert f"{name}=={old}" in f.why  # says what to pin or install


def test_non_pep440_version_says_it_was_compared_as_text():
    f = by_key(BASE, with_package(BASE, "numpy", "1.26.4build1"))["package:numpy"]
    assert "not a PEP 440 version, compared as text" in f.why


def test_added_package_is_info():
    assert found(BASE, with_package(BASE, "requests", "2.31.0")) == [
        ("info", "package:requests", "added")
    ]


def test_same_version_from_another_source_is_a_warning():
    pkgs = [
        p.model_copy(update={"vcs": "git", "commit": "abc"}) if p.name == "pandas" else p
        for p in BASE.packages
    ]
    assert found(BASE, changed(BASE, "packages", pkgs)) == [
        ("warning", "package:pandas.commit", "added"),
        ("warning", "package:pandas.vcs", "added"),
    ]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("python.version", "3.12.1", ("error", "python:version", "changed")),
        ("python.version", "3.11.9", ("info", "python:version", "changed")),
        ("python.implementation", "PyPy", ("error", "python:implementation", "changed")),
        ("platform.arch", "aarch64", ("error", "platform:arch", "changed")),
        ("platform.timezone", "Europe/Berlin", ("warning", "platform:timezone", "changed")),
        ("platform.locale", "de_DE.UTF-8", ("warning", "platform:locale", "changed")),
        (
            "platform.preferred_encoding",
            "ANSI_X3.4-1968",
            ("warning", "platform:preferred_encoding", "changed"),
        ),
        ("platform.libc_version", "2.31", ("warning", "platform:libc_version", "changed")),
        ("platform.kernel", "6.8.0", ("info", "platform:kernel", "changed")),
        ("cpu.model", "EPYC 9654", ("info", "cpu:model", "changed")),
        ("cpu.vendor", "AuthenticAMD", ("warning", "cpu:vendor", "changed")),
        ("cpu.usable_cores", 2, ("warning", "cpu:usable_cores", "changed")),
        ("cpu.logical_cores", 16, ("info", "cpu:logical_cores", "changed")),
        ("memory.total_bytes", 2**30, ("info", "memory:total_bytes", "changed")),
        ("gpus.driver_version", "535.104", ("warning", "gpu:driver_version", "changed")),
        ("gpus.cuda_driver_version", "12.2", ("warning", "gpu:cuda_driver_version", "changed")),
        ("accelerator.cuda_runtime", "12.1", ("info", "accelerator:cuda_runtime", "added")),
        ("seeds.declared", {"global": 7}, ("error", "seed:global", "changed")),
        ("seeds.declared", {}, ("warning", "seed:global", "removed")),
        ("seeds.declared", {"global": 42, "sampler": 1}, ("info", "seed:sampler", "added")),
        ("code.commit", "2" * 40, ("info", "code:commit", "changed")),
        ("code.dirty", True, ("warning", "code:dirty", "changed")),
        (
            "env",
            {"LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0"},
            ("warning", "env:CUDA_VISIBLE_DEVICES", "changed"),
        ),
        (
            "env",
            {"LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0,1", "LD_PRELOAD": "/x.so"},
            ("warning", "env:LD_PRELOAD", "added"),
        ),
        (
            "env",
            {"LANG": "C.UTF-8", "CUDA_VISIBLE_DEVICES": "0,1", "KERAS_BACKEND": "jax"},
            ("info", "env:KERAS_BACKEND", "added"),
        ),
    ],
)
def test_one_field_one_finding(path, value, expected):
    assert found(BASE, changed(BASE, path, value)) == [expected]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"PYTHONHASHSEED": "random", "OMP_NUM_THREADS": "8"},
            ("error", "determinism:PYTHONHASHSEED", "changed"),
        ),
        ({"OMP_NUM_THREADS": "8"}, ("error", "determinism:PYTHONHASHSEED", "removed")),
        (
            {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "8", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"},
            ("error", "determinism:CUBLAS_WORKSPACE_CONFIG", "added"),
        ),
        (
            {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "2"},
            ("warning", "determinism:OMP_NUM_THREADS", "changed"),
        ),
        (
            {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "8", "KMP_BLOCKTIME": "0"},
            ("warning", "determinism:KMP_BLOCKTIME", "added"),
        ),
    ],
)
def test_determinism_variables(env, expected):
    assert found(BASE, changed(BASE, "determinism.env", env)) == [expected]


def test_determinism_why_says_what_to_set():
    f = by_key(BASE, changed(BASE, "determinism.env", {"OMP_NUM_THREADS": "8"}))
    assert "set PYTHONHASHSEED=0 in the candidate" in f["determinism:PYTHONHASHSEED"].why


@pytest.mark.parametrize(
    ("switch", "value", "severity"),
    [
        ("cudnn.benchmark", True, "error"),
        ("deterministic_algorithms", False, "error"),
        ("num_threads", 4, "warning"),
    ],
)
def test_framework_switches(switch, value, severity):
    torch = dict(BASE.determinism.frameworks["torch"], **{switch: value})
    b = changed(BASE, "determinism.frameworks", {"torch": torch})
    assert found(BASE, b) == [(severity, f"determinism:torch.{switch}", "changed")]


def test_framework_version_switch_is_left_to_the_package_list():
    torch = dict(BASE.determinism.frameworks["torch"], version="2.4.0")
    assert found(BASE, changed(BASE, "determinism.frameworks", {"torch": torch})) == []


def test_framework_recorded_on_one_side_only_is_not_drift():
    # A process that has imported torch and one that has not are the same environment.
    b = changed(BASE, "determinism.frameworks", {})
    assert "determinism:torch" not in by_key(BASE, b)


def test_utc_spellings_and_dst_offsets_are_not_drift():
    assert found(BASE, changed(BASE, "platform.timezone", "Etc/UTC")) == []
    berlin = changed(BASE, "platform.timezone", "Europe/Berlin")
    summer = changed(berlin, "platform.utc_offset_minutes", 120)
    winter = changed(berlin, "platform.utc_offset_minutes", 60)
    assert found(winter, summer) == []


def test_lost_vector_flags_are_warnings_with_why():
    b = changed(BASE, "cpu.flags", ["avx", "avx2", "sse4_2", "amx_tile"])
    findings = by_key(BASE, b)
    assert [(k, f.severity, f.change) for k, f in findings.items()] == [
        ("cpu:flags.avx512f", "warning", "removed"),
        ("cpu:flags.fma", "warning", "removed"),
        ("cpu:flags.amx_tile", "info", "added"),
    ]
    assert findings["cpu:flags.fma"].why.startswith(
        "another vector code path: results may differ in the last bits, speed differs"
    )


def test_gpu_gone_is_an_error_the_model_runs_on_cpu():
    b = changed(
        BASE,
        "gpus",
        BASE.gpus.model_copy(
            update={
                "state": "no_gpu",
                "detail": "no device",
                "devices": [],
                "driver_version": None,
                "cuda_driver_version": None,
            }
        ),
    )
    findings = by_key(BASE, b)
    assert findings["gpu:state"].severity == "error"
    assert "run on CPU" in findings["gpu:state"].why
    assert findings["gpu:count"].severity == "warning"
    assert findings["gpu:driver_version"].severity == "warning"


def test_gpu_model_and_count():
    h100 = [Gpu(name="NVIDIA H100", memory_bytes=80 * 2**30, compute_capability="9.0")]
    findings = by_key(BASE, changed(BASE, "gpus.devices", h100))
    assert {k: f.severity for k, f in findings.items()} == {
        "gpu:count": "warning",
        "gpu:model": "warning",
        "gpu:compute_capability": "warning",
        "gpu:memory_bytes": "info",
    }
    assert findings["gpu:model"].baseline == "2 x NVIDIA A100"


def test_no_gpu_on_either_side_for_different_reasons_is_info():
    a = changed(
        BASE,
        "gpus",
        BASE.gpus.model_copy(
            update={
                "state": "no_library",
                "devices": [],
                "driver_version": None,
                "cuda_driver_version": None,
            }
        ),
    )
    b = changed(a, "gpus.state", "no_gpu")
    assert found(a, b) == [("info", "gpu:state", "changed")]


def test_blas_vendor_and_threads():
    mkl = BlasLibrary(
        key="numpy/blas",
        user_api="blas",
        internal_api="mkl",
        prefix="libmkl_rt",
        version="2024.0",
        threading_layer="intel",
        num_threads=8,
    )
    # Another vendor behind numpy/blas: one change of one key, not removed + added.
    assert found(BASE, changed(BASE, "blas", [mkl])) == [("warning", "blas:numpy/blas", "changed")]
    fewer = BASE.blas[0].model_copy(update={"num_threads": 2, "architecture": "Haswell"})
    assert found(BASE, changed(BASE, "blas", [fewer])) == [
        ("warning", "blas:numpy/blas.architecture", "changed"),
        ("warning", "blas:numpy/blas.num_threads", "changed"),
    ]


def test_secrets_never_shown_even_when_redacted_values_differ():
    a = changed(BASE, "env", dict(BASE.env, HF_TOKEN=REDACTED, TF_URL="https://x"))
    b = changed(BASE, "env", dict(BASE.env, HF_TOKEN=REDACTED, TF_URL=REDACTED))
    findings = by_key(a, b)
    # Redacted on both sides: nothing to compare, no finding.
    assert "env:HF_TOKEN" not in findings
    # Redacted on one side: the other side's value is not shown either.
    f = findings["env:TF_URL"]
    assert (f.baseline, f.candidate) == (REDACTED, REDACTED)
    assert "https://x" not in f.model_dump_json()


def test_sorted_by_severity_then_category_then_key():
    b = with_package(BASE, "numpy", "2.0.0")
    b = with_package(b, "aaa", "1.0")
    b = with_package(b, "pandas", "2.3.0")
    b = changed(b, "platform.timezone", "Asia/Tokyo")
    b = changed(b, "python.version", "3.12.0")
    b = changed(b, "code.commit", "f" * 40)
    assert found(BASE, b) == [
        ("error", "package:numpy", "changed"),
        ("error", "python:version", "changed"),
        ("warning", "package:pandas", "changed"),
        ("warning", "platform:timezone", "changed"),
        ("info", "package:aaa", "added"),
        ("info", "code:commit", "changed"),
    ]


def test_report_verdict_counts_and_sides():
    b = with_package(changed(BASE, "platform.timezone", "Asia/Tokyo"), "aaa", "1.0")
    report = diff(BASE, b, baseline_ref="fraud-train", candidate_ref="b.json")
    assert report.verdict == "warning"
    assert report.counts == {"info": 1, "warning": 1, "error": 0}
    assert (report.fail_on, report.failed) == ("error", False)
    assert report.baseline.ref == "fraud-train"
    assert report.baseline.fingerprint == BASE.fingerprint
    assert report.baseline.hostname == "trainer-1"
    assert diff(BASE, b, Policy(fail_on="warning")).failed


@pytest.mark.parametrize(
    ("verdict", "fail_on", "fails"),
    [
        ("none", "info", False),
        ("info", "info", True),
        ("info", "warning", False),
        ("warning", "warning", True),
        ("error", "error", True),
        ("warning", "error", False),
        ("error", "never", False),
    ],
)
def test_reaches(verdict, fail_on, fails):
    assert reaches(verdict, fail_on) is fails


def test_every_finding_says_what_to_do():
    b = BASE
    for path, value in [
        ("python.version", "3.12.0"),
        ("platform.timezone", "Asia/Tokyo"),
        ("cpu.flags", []),
        ("gpus.state", "error"),
        ("determinism.env", {}),
        ("seeds.declared", {"global": 1}),
        ("env", {}),
        ("code.dirty", True),
        ("memory.total_bytes", 1),
        ("accelerator.cudnn", "8.9"),
    ]:
        b = changed(b, path, value)
    b = with_package(with_package(b, "numpy", None), "new", "1")
    report = diff(BASE, b)
    assert len(report.findings) > 15
    for f in report.findings:
        assert len(f.why) > 20, f


def _run(scale: float, seed: int) -> BenchmarkRun:
    rng = random.Random(seed)

    def samples(s: float):
        return [[s * (1 + 0.01 * rng.random()) for _ in range(10)] for _ in range(5)]

    return BenchmarkRun(
        suite="quick",
        processes=5,
        wall_seconds=1.0,
        results=[
            BenchmarkResult(name="loop", samples=samples(scale)),
            BenchmarkResult(name="copy", samples=samples(1.0)),
        ],
    )


def _numerics(last: float):
    return [
        NumericResult(name="gemm", sha256=str(last), values=[1.0, last], dtype="float64", shape=[2])
    ]


def test_numerics_outside_tolerance_and_a_slowdown():
    a = changed(changed(BASE, "benchmarks", _run(1.0, 1)), "numerics", _numerics(2.0))
    b = changed(changed(BASE, "benchmarks", _run(1.5, 2)), "numerics", _numerics(2.001))
    report = diff(a, b)
    assert [(f.severity, f"{f.category}:{f.key}") for f in report.findings] == [
        ("error", "numerics:gemm"),
        ("warning", "benchmark:loop"),
    ]
    assert [(c.name, c.verdict) for c in report.benchmarks] == [
        ("copy", "same"),
        ("loop", "slower"),
    ]
    # One ratio convention: candidate/baseline, its CI in the same orientation, times with units.
    loop = report.benchmarks[1]
    assert loop.ci_low is not None and loop.ci_high is not None
    assert 1.0 < loop.ci_low <= loop.ratio <= loop.ci_high
    assert report.findings[1].why.startswith(
        f"1.50x slower (99% CI {loop.ci_low:.2f}-{loop.ci_high:.2f}; 1.00 s -> 1.50 s)"
    ), report.findings[1].why
    # The same measurements on both sides: nothing.
    same = diff(a, a)
    assert same.findings == [] and {c.verdict for c in same.benchmarks} == {"same"}


def test_measurements_on_one_side_only_are_not_compared():
    a = changed(changed(BASE, "benchmarks", _run(1.0, 1)), "numerics", _numerics(2.0))
    report = diff(a, BASE)
    assert (report.findings, report.benchmarks) == ([], [])


def test_unknown_dirty_flag_is_not_a_difference():
    # The start-up hook runs no git, so it records dirty as unknown against a CLI baseline.
    assert found(changed(BASE, "code.dirty", True), changed(BASE, "code.dirty", None)) == []
