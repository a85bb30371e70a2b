"""The conditions a benchmark ran under: what else the machine was doing, and how fast it was.

Two levels, both plain dicts of JSON types (the worker imports only the standard library):

- :func:`machine` once per run: load average, CPU frequency and governor where readable, the
  CPUs in this process's affinity set, the cgroup CPU quota;
- :func:`start` / :func:`finish` around a worker's timed section: the CPU time the worker used
  (``time.process_time``, all its threads), the busy and steal time of the CPUs it may run on
  (``/proc/stat`` deltas, only the affinity set's per-CPU lines: a container's /proc/stat shows the
  whole host), the time its threads waited on a run queue (``/proc/<pid>/task/*/schedstat``) and
  the cgroup's throttled time. Other processes' CPU time is the busy time less the worker's own.

Each reader returns ``None`` rather than raise when its file is missing or unreadable (macOS,
Windows, a locked-down container): a missing figure is unknown, not zero.

:func:`contention` turns a worker's figures into one number: the share of its CPUs that other
processes (and the hypervisor, as steal) held while it ran. :data:`CONTENDED` is the share above
which a worker counts as contended; README's Measured section has the figures behind it.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

# Share of the worker's CPUs held by others (busy time + steal) above which a worker counts as
# contended: well under the half that one busy neighbour holds on two CPUs, the smallest
# neighbour that turned a call around in scripts/bench_contention.py (README, Measured).
CONTENDED = 0.2

_TICK = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0


def _affinity() -> Optional[List[int]]:
    try:
        return sorted(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        return None


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def _cpu_ticks(cpus: Optional[Sequence[int]]) -> Optional[Tuple[float, float]]:
    """``(busy, steal)`` seconds summed over ``cpus`` (all CPUs when None) from /proc/stat."""
    text = _read("/proc/stat")
    if text is None:
        return None
    wanted = None if cpus is None else {f"cpu{c}" for c in cpus}
    busy = steal = 0.0
    found = False
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        fields = line.split()
        name = fields[0]
        if (wanted is None and name != "cpu") or (wanted is not None and name not in wanted):
            continue
        try:
            v = [float(x) for x in fields[1:9]]
        except ValueError:
            return None
        v += [0.0] * (8 - len(v))
        # user nice system idle iowait irq softirq steal: busy is what ran, steal what the
        # hypervisor gave to another guest.
        busy += v[0] + v[1] + v[2] + v[5] + v[6]
        steal += v[7]
        found = True
    return (busy / _TICK, steal / _TICK) if found else None


def _run_queue_wait() -> Optional[float]:
    """Seconds this process's threads spent runnable but waiting for a CPU, so far."""
    base = f"/proc/{os.getpid()}/task"
    try:
        tasks = os.listdir(base)
    except OSError:
        return None
    total, seen = 0.0, False
    for task in tasks:
        text = _read(f"{base}/{task}/schedstat")
        if not text:
            continue
        parts = text.split()
        if len(parts) >= 2 and parts[1].isdigit():
            total += int(parts[1]) / 1e9
            seen = True
    return total if seen else None


def _cgroup_dir() -> Optional[str]:
    text = _read("/proc/self/cgroup")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("0::"):
            path = "/sys/fs/cgroup" + line[3:].strip()
            if os.path.exists(os.path.join(path, "cpu.max")):
                return path
            return "/sys/fs/cgroup" if os.path.exists("/sys/fs/cgroup/cpu.max") else None
    return None


def _quota() -> Optional[float]:
    """The cgroup CPU quota in CPUs (cgroup v2 ``cpu.max``, v1 cfs); None when unlimited/unknown."""
    path = _cgroup_dir()
    text = _read(os.path.join(path, "cpu.max")) if path else None
    if text:
        quota, _, period = text.strip().partition(" ")
        if quota != "max" and quota.isdigit() and period.isdigit() and int(period) > 0:
            return int(quota) / int(period)
        return None
    q = _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    p = _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    try:
        if q and p and int(q) > 0 and int(p) > 0:
            return int(q) / int(p)
    except ValueError:
        pass
    return None


def _throttled() -> Optional[float]:
    """Seconds the cgroup has been throttled by its quota, so far (cgroup v2)."""
    path = _cgroup_dir()
    text = _read(os.path.join(path, "cpu.stat")) if path else None
    if not text:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "throttled_usec" and value.strip().isdigit():
            return int(value) / 1e6
    return None


def _frequency(cpus: Optional[Sequence[int]]) -> Tuple[Optional[float], Optional[str]]:
    """``(mean current MHz over cpus, governor)`` from cpufreq, else /proc/cpuinfo's MHz."""
    ids = list(cpus) if cpus is not None else [0]
    mhz: List[float] = []
    governor = None
    for c in ids:
        cur = _read(f"/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_cur_freq")
        if cur and cur.strip().isdigit():
            mhz.append(int(cur) / 1000.0)
        if governor is None:
            gov = _read(f"/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor")
            governor = gov.strip() if gov else None
    if not mhz:
        text = _read("/proc/cpuinfo") or ""
        per_cpu: Dict[int, float] = {}
        current = -1
        for line in text.splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "processor" and value.strip().isdigit():
                current = int(value)
            elif key == "cpu MHz" and current >= 0:
                try:
                    per_cpu[current] = float(value)
                except ValueError:
                    pass
        mhz = [per_cpu[c] for c in ids if c in per_cpu]
    return (round(sum(mhz) / len(mhz), 1) if mhz else None), governor


def machine() -> Dict[str, Any]:
    """The run-level conditions: load average, CPUs, quota, frequency and governor."""
    cpus = _affinity()
    try:
        load: Optional[List[float]] = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    mhz, governor = _frequency(cpus)
    return {
        "load_avg": load,
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(cpus) if cpus is not None else None,
        "quota_cpus": _quota(),
        "freq_mhz": mhz,
        "governor": governor,
    }


def start() -> Dict[str, Any]:
    """A mark taken just before a worker's timed section (pass it to :func:`finish`)."""
    cpus = _affinity()
    return {
        "cpus": cpus,
        "wall": time.perf_counter(),
        "own": time.process_time(),
        "ticks": _cpu_ticks(cpus),
        "wait": _run_queue_wait(),
        "throttled": _throttled(),
    }


def finish(mark: Dict[str, Any]) -> Dict[str, Any]:
    """The worker's conditions since ``mark``: seconds, own CPU, others' CPU, steal, waits."""
    wall = time.perf_counter() - mark["wall"]
    own = time.process_time() - mark["own"]
    cpus = mark["cpus"]
    ticks = _cpu_ticks(cpus)
    others = steal = None
    if ticks is not None and mark["ticks"] is not None:
        busy = ticks[0] - mark["ticks"][0]
        # Ticks are counted in 1/100 s, process time in ns: the difference is never below zero
        # for any other reason than that rounding.
        others = round(max(0.0, busy - own), 4)
        steal = round(max(0.0, ticks[1] - mark["ticks"][1]), 4)
    wait = _run_queue_wait()
    throttled = _throttled()
    mhz, _ = _frequency(cpus)
    return {
        "seconds": round(wall, 4),
        "cpus": len(cpus) if cpus is not None else (os.cpu_count() or 1),
        "own_cpu_s": round(own, 4),
        "others_cpu_s": others,
        "steal_s": steal,
        "run_queue_wait_s": None
        if wait is None or mark["wait"] is None
        else round(max(0.0, wait - mark["wait"]), 4),
        "throttled_s": None
        if throttled is None or mark["throttled"] is None
        else round(max(0.0, throttled - mark["throttled"]), 4),
        "freq_mhz": mhz,
    }


def contention(worker: Dict[str, Any]) -> Optional[float]:
    """The share of the worker's CPUs that others held while it ran (busy + steal), or None
    when /proc/stat could not be read. Throttling by the cgroup quota counts as held too."""
    others = worker.get("others_cpu_s")
    if others is None or not worker.get("seconds"):
        return None
    held = others + (worker.get("steal_s") or 0.0) + (worker.get("throttled_s") or 0.0)
    return round(held / (worker["seconds"] * max(1, worker.get("cpus") or 1)), 3)
