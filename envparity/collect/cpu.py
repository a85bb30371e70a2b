"""CPU model, the ISA flags that pick numeric code paths, cores in three senses, and memory.

``os.cpu_count()``, the affinity mask and the cgroup quota are three different numbers in a
container, and thread pools size themselves from different ones of them: all three are kept.

On Linux, physical cores, maximum frequency and total memory come from the same /proc and /sys
files psutil reads (topology core lists, cpufreq, /proc/meminfo): three small reads next to the
cpuinfo and cgroup files this probe reads anyway, where importing psutil costs ~13 ms that every
serving start-up would pay. psutil answers on every other platform.
"""

from __future__ import annotations

import glob
import math
import os
import re
import sys
from typing import Any, Dict, List, Optional

from .interface import Context

PROBE = "cpu"

# Flags that change which vector path BLAS, NumPy and friends take, hence speed and rounding.
_FLAG = re.compile(
    r"^(sse4_1|sse4_2|avx|avx2|fma|f16c|avx512.*|amx.*|avx_vnni.*|avx_ifma|avx_ne_convert"
    r"|neon|asimd.*|sve.*|sme\d*|fphp|bf16|i8mm)$"
)


def _cpuinfo(ctx: Context) -> Dict[str, Any]:
    text = ctx.read(PROBE, os.path.join(ctx.proc, "cpuinfo")) or ""
    first = text.split("\n\n", 1)[0]
    fields: Dict[str, str] = {}
    for line in first.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    flags = (fields.get("flags") or fields.get("features") or "").split()
    return {
        "vendor": fields.get("vendor_id") or fields.get("cpu implementer"),
        "model": fields.get("model name") or fields.get("cpu model") or fields.get("processor"),
        "flags": sorted({f for f in flags if _FLAG.match(f)}),
        # x86 family/model/stepping (ARM: architecture/part/revision); microcode is per machine.
        "family": _number(fields.get("cpu family") or fields.get("cpu architecture")),
        "model_number": _number(fields.get("model") or fields.get("cpu part")),
        "stepping": _number(fields.get("stepping") or fields.get("cpu revision")),
        "microcode": fields.get("microcode"),
    }


def _number(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def _cgroup_dir(ctx: Context) -> str:
    # cgroup v2: "0::/path" in /proc/self/cgroup; inside a container the path is usually "/".
    text = ctx.read(PROBE, os.path.join(ctx.proc, "self", "cgroup")) or ""
    for line in text.splitlines():
        if line.startswith("0::"):
            candidate = os.path.join(ctx.sys, "fs", "cgroup", line[3:].strip().lstrip("/"))
            if os.path.isdir(candidate):
                return candidate
    return os.path.join(ctx.sys, "fs", "cgroup")


def _quota_cores(ctx: Context, cgroup: str) -> Optional[float]:
    text = ctx.read(PROBE, os.path.join(cgroup, "cpu.max"))
    if text:
        parts = text.split()  # "max 100000" or "150000 100000"
        if len(parts) == 2 and parts[0] != "max":
            try:
                return int(parts[0]) / int(parts[1])
            except (ValueError, ZeroDivisionError):
                ctx.fail(PROBE, f"unparseable cpu.max: {text.strip()!r}", cgroup)
        return None
    v1 = os.path.join(ctx.sys, "fs", "cgroup", "cpu")
    quota_text = ctx.read(PROBE, os.path.join(v1, "cpu.cfs_quota_us"))
    period_text = ctx.read(PROBE, os.path.join(v1, "cpu.cfs_period_us"))
    try:
        if quota_text and period_text and int(quota_text) > 0:
            return int(quota_text) / int(period_text)
    except (ValueError, ZeroDivisionError):
        ctx.fail(PROBE, "unparseable cfs quota", v1)
    return None


def _memory_limit(ctx: Context, cgroup: str) -> Optional[int]:
    for path in (
        os.path.join(cgroup, "memory.max"),
        os.path.join(ctx.sys, "fs", "cgroup", "memory", "memory.limit_in_bytes"),
    ):
        text = ctx.read(PROBE, path)
        if text is None:
            continue
        text = text.strip()
        if text == "max":
            return None
        try:
            value = int(text)
        except ValueError:
            ctx.fail(PROBE, f"unparseable memory limit {text!r}", path)
            return None
        return value if value < 2**62 else None  # v1 says "no limit" with a huge number
    return None


def _linux(ctx: Context) -> Optional[Dict[str, Any]]:
    meminfo = ctx.read(PROBE, os.path.join(ctx.proc, "meminfo"))
    if meminfo is None:
        return None
    found: Dict[str, Any] = {}
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            found["total_bytes"] = int(line.split()[1]) * 1024  # reported in kB
            break
    cpus = os.path.join(ctx.sys, "devices", "system", "cpu")
    cores = set()
    for cpu in glob.glob(os.path.join(cpus, "cpu[0-9]*")):
        for name in ("core_cpus_list", "thread_siblings_list"):
            siblings = ctx.read(PROBE, os.path.join(cpu, "topology", name))
            if siblings is not None:
                cores.add(siblings.strip())
                break
    if cores:
        found["physical_cores"] = len(cores)
    khz = ctx.read(PROBE, os.path.join(cpus, "cpu0", "cpufreq", "cpuinfo_max_freq"))
    if khz and khz.strip().isdigit():
        found["max_mhz"] = int(khz) / 1000
    return found


def _psutil(ctx: Context) -> Dict[str, Any]:
    try:
        import psutil
    except ImportError:
        ctx.fail(PROBE, "psutil is not installed; physical cores and memory unknown")
        return {}
    found: Dict[str, Any] = {}
    try:
        found["physical_cores"] = psutil.cpu_count(logical=False)
    except Exception as e:
        ctx.fail(PROBE, f"physical core count: {e}")
    try:
        freq = psutil.cpu_freq()
        if freq and freq.max:
            found["max_mhz"] = float(freq.max)
    except Exception as e:
        ctx.fail(PROBE, f"cpu frequency: {e}")
    try:
        found["total_bytes"] = int(psutil.virtual_memory().total)
    except Exception as e:
        ctx.fail(PROBE, f"memory total: {e}")
    return found


def collect(ctx: Context) -> Dict[str, Any]:
    cpu: Dict[str, Any] = _cpuinfo(ctx)
    cpu["logical_cores"] = os.cpu_count()
    try:
        cpu["affinity_cores"] = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        cpu["affinity_cores"] = None
    cgroup = _cgroup_dir(ctx)
    quota = _quota_cores(ctx, cgroup)
    cpu["cgroup_quota_cores"] = quota
    counts: List[int] = [
        n for n in (cpu["affinity_cores"] or cpu["logical_cores"],) if n is not None
    ]
    if quota is not None:
        counts.append(max(1, math.ceil(quota)))
    cpu["usable_cores"] = min(counts) if counts else None
    extra = (_linux(ctx) if sys.platform.startswith("linux") else None) or _psutil(ctx)
    cpu["physical_cores"] = extra.get("physical_cores")
    cpu["max_mhz"] = extra.get("max_mhz")
    memory = {
        "total_bytes": extra.get("total_bytes"),
        "cgroup_limit_bytes": _memory_limit(ctx, cgroup),
    }
    return {"cpu": cpu, "memory": memory}
