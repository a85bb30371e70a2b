"""The torch benchmarks' logic, against a fake torch at the boundary (no torch or GPU here).

The fake records what the benchmark asks of torch: that CUDA work is bracketed by events and
timed on the GPU (not with a host clock), and that the host buffer of the copy is pinned.
"""

from __future__ import annotations

import sys
import types
from typing import Any, List

import pytest

from envparity.bench.suite import BUILTINS
from envparity.bench.worker import measure


def _fake_torch(calls: List[Any], cuda_available: bool = True) -> types.ModuleType:
    torch = types.ModuleType("torch")

    class Tensor:
        def reshape(self, *shape: int) -> Tensor:
            return self

        def t(self) -> Tensor:
            return self

        def contiguous(self) -> Tensor:
            return self

        def pin_memory(self) -> Tensor:
            calls.append("pin")
            return self

        def copy_(self, other: Tensor, non_blocking: bool = False) -> Tensor:
            calls.append(("copy", non_blocking))
            return self

    class Event:
        def __init__(self, enable_timing: bool = False) -> None:
            assert enable_timing, "events must be created with enable_timing=True"

        def record(self) -> None:
            calls.append("record")

        def synchronize(self) -> None:
            calls.append("wait")

        def elapsed_time(self, end: Event) -> float:
            return 3.0  # milliseconds, as torch reports them

    cuda = types.SimpleNamespace(
        is_available=lambda: cuda_available,
        synchronize=lambda: calls.append("sync"),
        reset_peak_memory_stats=lambda: None,
        max_memory_allocated=lambda: 4096,
        memory_allocated=lambda: 1024,
        Event=Event,
    )

    def matmul(a: Tensor, b: Tensor, out: Any = None) -> Any:
        calls.append("matmul")
        return out

    torch.cuda = cuda  # type: ignore[attr-defined]
    torch.float32 = "float32"  # type: ignore[attr-defined]
    torch.matmul = matmul  # type: ignore[attr-defined]
    for name in ("linspace", "empty", "ones"):
        setattr(torch, name, lambda *a, **k: Tensor())
    return torch


def _measure(name: str) -> dict:
    entries = [{"name": name, "build": BUILTINS[name], "loops": None}]
    return measure(entries, rounds=3, warmups=1, seed=0)[name]


def test_cuda_matmul_is_timed_with_events(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Any] = []
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(calls))
    result = _measure("torch_cuda_matmul")
    assert result["status"] == "ok", result
    assert result["samples"] == [0.003 / result["loops"]] * 3  # GPU time from the events
    assert result["peak"] == 4096 - 1024  # CUDA's allocator above what was there, not tracemalloc
    first = calls.index("record")
    assert calls[first - 1] == "sync"  # earlier GPU work is finished before the start event
    assert calls[first + 1] == "matmul" and "wait" in calls  # end event waited on


def test_h2d_copy_is_pinned_and_non_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Any] = []
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(calls))
    assert _measure("torch_cuda_h2d")["status"] == "ok"
    assert "pin" in calls and ("copy", True) in calls


def test_no_cuda_is_a_skip_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", _fake_torch([], cuda_available=False))
    result = _measure("torch_cuda_matmul")
    assert result["status"] == "skipped"
    assert "CUDA is not available" in result["reason"]
    assert _measure("torch_matmul_cpu")["status"] == "ok"  # the CPU one still runs


def test_no_torch_is_a_skip_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    for name in ("torch_matmul_cpu", "torch_cuda_matmul", "torch_cuda_h2d"):
        result = _measure(name)
        assert result["status"] == "skipped" and "torch is not installed" in result["reason"]
