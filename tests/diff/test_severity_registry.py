"""The severity table is complete by construction: every finding the engine emits, over a corpus
of differences planted in a real snapshot, is described by a field rule or a registered coded rule
(category, key pattern, severity), so the generated table never misses a severity the code uses."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import envparity
from envparity.drift import rules
from envparity.drift.engine import findings

Data = Dict[str, Any]

VARIABLES = [
    "PYTHONIOENCODING", "NCCL_DEBUG", "NCCL_P2P_DISABLE", "CUDA_HOME", "LD_PRELOAD", "PYTHONPATH",
    "PYTHONTZPATH", "ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_CBWR",
    "KMP_AFFINITY", "TZ", "LANG", "HF_HOME", "TF_CPP_MIN_LOG_LEVEL", "CUBLAS_WORKSPACE_CONFIG",
    "XLA_FLAGS", "NPY_DISABLE_CPU_FEATURES", "CUDA_VISIBLE_DEVICES", "PYTHONHASHSEED",
]
GPU = {
    "name": "NVIDIA H100 80GB HBM3", "memory_total_mib": 81559, "compute_capability": "9.0",
    "uuid": "GPU-1", "pci_bus_id": "00000000:01:00.0",
}


@pytest.fixture(scope="module")
def base() -> Data:
    return json.loads(envparity.snapshot().model_dump_json())


def _leaves(value: Any, path: Tuple[Any, ...]) -> Iterator[Tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, path + (key,))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return f"other-{value}"


def pairs(base: Data) -> Iterator[Tuple[Data, Data]]:
    """(baseline, candidate) pairs, each with differences planted in one area."""
    for name in VARIABLES:
        for section in (("env",), ("determinism", "env")):
            with_it = copy.deepcopy(base)
            target = with_it
            for part in section:
                target = target.setdefault(part, {})
            target[name] = "1"
            yield base, with_it
            yield with_it, base
            changed = copy.deepcopy(with_it)
            target = changed
            for part in section:
                target = target[part]
            target[name] = "utf-8"
            yield with_it, changed
    clean = copy.deepcopy(base)  # whatever state this checkout is in when the tests run
    clean["code"] = dict(clean.get("code") or {}, dirty=False)
    for field, value in (("dirty", True), ("commit", "0" * 40), ("branch", "x"),
                         ("remotes", {"origin": "https://example.invalid/x.git"})):
        cand = copy.deepcopy(clean)
        cand["code"] = dict(cand["code"], **{field: value})
        yield clean, cand
        yield cand, clean
    gpus = copy.deepcopy(base)
    gpus["gpus"] = {"devices": [GPU], "driver_version": "550.54"}
    smaller = copy.deepcopy(gpus)
    smaller["gpus"]["devices"] = [dict(GPU, memory_total_mib=40960, name="NVIDIA A100")]
    yield gpus, base
    yield gpus, smaller
    flags = list(base["cpu"].get("flags") or [])
    for cand_flags in (flags + ["avx512f", "amx_tile"], flags[: len(flags) // 2]):
        cand = copy.deepcopy(base)
        cand["cpu"]["flags"] = cand_flags
        yield base, cand
    for section in ("python", "platform", "cpu", "memory", "accelerator", "seeds"):
        for path in _leaves(base.get(section), (section,)):
            cand = copy.deepcopy(base)
            target = cand
            for part in path[:-1]:
                target = target[part]
            if isinstance(target, dict):
                target[path[-1]] = _changed(target[path[-1]])
                yield base, cand
    for i, package in enumerate(base["packages"][:40]):
        version = package["version"]
        for new in (f"{int(version.split('.')[0]) + 1 if version[0].isdigit() else 9}.0",
                    version + ".1", None):
            cand = copy.deepcopy(base)
            if new is None:
                del cand["packages"][i]
            else:
                cand["packages"][i] = dict(package, version=new)
            yield base, cand


def emitted(base: Data) -> List[Tuple[str, str, str]]:
    out = set()
    for a, b in pairs(base):
        for finding in findings(a, b)[0]:
            out.add((finding["category"], finding["key"], finding["severity"]))
            for member in finding.get("members") or []:
                if isinstance(member, dict) and "severity" in member:
                    out.add((finding["category"], member.get("key", ""), member["severity"]))
    return sorted(out)


def test_every_emitted_severity_is_in_the_table(base: Data) -> None:
    found = emitted(base)
    assert len(found) > 50, found  # the corpus reaches many rules
    missing = [f for f in found if not rules.covers(*f)]
    assert missing == [], "register these in envparity/drift/rules.py CODED: " + repr(missing)


def test_a_severity_no_rule_registers_is_caught() -> None:
    assert rules.covers("package", "numpy", "error")
    assert not rules.covers("cpu", "flags.avx512f", "error")
    assert not rules.covers("nosuchcategory", "x", "info")
