"""The worker's measuring loop: calibration, shuffled rounds, held contexts, failures."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator, List

from envparity.bench.suite import Loop
from envparity.bench.worker import calibrate, measure


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_calibration_makes_a_sample_take_about_a_millisecond_or_more() -> None:
    timed = Loop(lambda: _busy(0.0001))
    loops = calibrate(timed)
    assert 3 <= loops <= 40  # ~1.2 ms of 0.1 ms calls (a busy machine can stretch a call)
    assert calibrate(Loop(lambda: _busy(0.004))) == 1  # already long enough


def test_a_context_is_held_over_its_own_block_not_entered_per_sample() -> None:
    events: List[Any] = []

    @contextlib.contextmanager
    def limit() -> Iterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    limited = Loop(lambda: events.append("limited"), context=limit)
    plain = Loop(lambda: events.append("plain"))
    entries = [
        {"name": "limited", "build": lambda: limited, "loops": 1},
        {"name": "plain", "build": lambda: plain, "loops": 1},
    ]
    results = measure(entries, rounds=4, warmups=0, seed=0, peak=False)
    assert len(results["limited"]["samples"]) == 4 and len(results["plain"]["samples"]) == 4
    last_enter = len(events) - 1 - events[::-1].index("enter")
    block = events[last_enter:]
    # One enter, then the warm-up and four samples inside it, no plain sample in between.
    assert block == ["enter"] + ["limited"] * 5 + ["exit"]
    assert "plain" not in block


def test_a_benchmark_failing_mid_run_is_recorded_and_others_go_on() -> None:
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise RuntimeError("out of memory")

    entries = [
        {"name": "flaky", "build": lambda: Loop(flaky), "loops": 1},
        {"name": "fine", "build": lambda: Loop(lambda: None), "loops": 1},
        {"name": "broken", "build": lambda: 1 / 0, "loops": None},
    ]
    results = measure(entries, rounds=5, warmups=1, seed=3, peak=False)
    assert results["flaky"]["status"] == "failed"
    assert results["flaky"]["reason"] == "RuntimeError: out of memory"
    assert results["flaky"]["samples"] == []
    assert results["fine"]["status"] == "ok" and len(results["fine"]["samples"]) == 5
    assert results["broken"]["status"] == "failed"
    assert results["broken"]["reason"].startswith("ZeroDivisionError")


def test_a_held_benchmark_is_calibrated_inside_its_context() -> None:
    # Entering the context costs more than a sample should take (as a threadpoolctl limit does):
    # calibrated call by call, every call would look long enough and the loop count stay 1.
    @contextlib.contextmanager
    def slow_to_enter() -> Iterator[None]:
        _busy(0.003)
        yield

    timed = Loop(lambda: _busy(0.0002), context=slow_to_enter)
    entries = [{"name": "held", "build": lambda: timed, "loops": None}]
    result = measure(entries, rounds=2, warmups=0, seed=0, peak=False)["held"]
    assert result["loops"] >= 4
    assert all(s < 0.001 for s in result["samples"])  # per loop: the context is not in the time


def test_calibration_rounds_up_so_a_sample_is_not_left_under_a_millisecond() -> None:
    # 0.7 ms calls: int(1.2 / 0.7) would be 1 loop, a 0.7 ms sample.
    assert calibrate(Loop(lambda: _busy(0.0007))) >= 2
