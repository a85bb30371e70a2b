"""CPU, cgroup and memory from fixture /proc and /sys trees; unreadable files are recorded."""

from __future__ import annotations

import os
from pathlib import Path

from envparity.collect import cpu
from envparity.collect.interface import Context

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma avx512f avx512bw amx_tile smep ht

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma avx512f avx512bw amx_tile smep ht
"""


def _tree(tmp_path: Path, *, cpu_max: str = "", memory_max: str = "") -> Context:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "cpuinfo").write_text(CPUINFO)
    (proc / "self" / "cgroup").write_text("0::/\n")
    cgroup = tmp_path / "sys" / "fs" / "cgroup"
    cgroup.mkdir(parents=True)
    if cpu_max:
        (cgroup / "cpu.max").write_text(cpu_max)
    if memory_max:
        (cgroup / "memory.max").write_text(memory_max)
    return Context(environ={}, proc=str(proc), sys=str(tmp_path / "sys"))


def test_model_and_numeric_flags_only(tmp_path):
    result = cpu.collect(_tree(tmp_path))
    assert result["cpu"]["vendor"] == "GenuineIntel"
    assert "8375C" in result["cpu"]["model"]
    # fpu, smep and ht do not pick numeric code paths; the vector extensions do.
    assert result["cpu"]["flags"] == [
        "amx_tile",
        "avx",
        "avx2",
        "avx512bw",
        "avx512f",
        "fma",
        "sse4_1",
        "sse4_2",
    ]


def test_three_core_counts_and_cgroup_quota(tmp_path):
    ctx = _tree(tmp_path, cpu_max="150000 100000\n", memory_max="2147483648\n")
    result = cpu.collect(ctx)
    affinity = len(os.sched_getaffinity(0))
    assert result["cpu"]["logical_cores"] == os.cpu_count()
    assert result["cpu"]["affinity_cores"] == affinity
    assert result["cpu"]["cgroup_quota_cores"] == 1.5
    assert result["cpu"]["usable_cores"] == min(affinity, 2)
    assert result["memory"]["cgroup_limit_bytes"] == 2147483648
    assert ctx.errors == []


def test_no_limits_read_as_none(tmp_path):
    result = cpu.collect(_tree(tmp_path, cpu_max="max 100000\n", memory_max="max\n"))
    assert result["cpu"]["cgroup_quota_cores"] is None
    assert result["memory"]["cgroup_limit_bytes"] is None


def test_unreadable_proc_and_cgroup_files_are_recorded_not_fatal(tmp_path):
    ctx = _tree(tmp_path)
    # A directory where a file should be: unreadable even for root (chmod is not).
    os.remove(tmp_path / "proc" / "cpuinfo")
    (tmp_path / "proc" / "cpuinfo").mkdir()
    (tmp_path / "sys" / "fs" / "cgroup" / "cpu.max").mkdir()
    result = cpu.collect(ctx)
    assert result["cpu"]["model"] is None
    assert result["cpu"]["logical_cores"] == os.cpu_count()
    paths = {e["path"] for e in ctx.errors}
    assert str(tmp_path / "proc" / "cpuinfo") in paths
    assert str(tmp_path / "sys" / "fs" / "cgroup" / "cpu.max") in paths


def test_garbage_cgroup_values_are_recorded(tmp_path):
    ctx = _tree(tmp_path, cpu_max="lots 100000\n", memory_max="plenty\n")
    result = cpu.collect(ctx)
    assert result["cpu"]["cgroup_quota_cores"] is None
    assert result["memory"]["cgroup_limit_bytes"] is None
    assert {e["probe"] for e in ctx.errors} == {"cpu"}
    assert len(ctx.errors) == 2


def test_physical_cores_frequency_and_memory_from_proc_and_sys(tmp_path):
    ctx = _tree(tmp_path)
    (tmp_path / "proc" / "meminfo").write_text("MemTotal:       16314432 kB\nMemFree: 1 kB\n")
    cpus = tmp_path / "sys" / "devices" / "system" / "cpu"
    for n, siblings in enumerate(["0-1", "0-1", "2-3", "2-3"]):  # 4 threads on 2 cores
        (cpus / f"cpu{n}" / "topology").mkdir(parents=True)
        (cpus / f"cpu{n}" / "topology" / "core_cpus_list").write_text(siblings + "\n")
    (cpus / "cpu0" / "cpufreq").mkdir()
    (cpus / "cpu0" / "cpufreq" / "cpuinfo_max_freq").write_text("3500000\n")
    result = cpu.collect(ctx)
    assert result["memory"]["total_bytes"] == 16314432 * 1024
    assert result["cpu"]["physical_cores"] == 2
    assert result["cpu"]["max_mhz"] == 3500.0
    assert ctx.errors == []


def test_this_machine_agrees_with_psutil():
    import psutil

    result = cpu.collect(Context())
    assert result["memory"]["total_bytes"] == psutil.virtual_memory().total
    assert result["cpu"]["physical_cores"] == psutil.cpu_count(logical=False)
