"""A report with facts it could not compare never says a bare "no drift"."""

from __future__ import annotations

from envparity.hook.compare import not_compared
from envparity.model import DriftReport, SnapshotSummary
from envparity.report import render


def _report(missing):
    side = SnapshotSummary(ref="a", snapshot_id="a" * 32, fingerprint="f" * 64,
                           captured_at="2026-01-01T00:00:00Z")
    return DriftReport(baseline=side, candidate=side, verdict="none", failed=False,
                       not_compared=missing)


def test_text_and_markdown_say_what_was_not_compared() -> None:
    missing = ["determinism:torch.deterministic_algorithms"]
    for fmt in ("text", "markdown"):
        out = render(_report(missing), fmt)
        assert "no drift in what was compared" in out
        assert "torch.deterministic" in out
        assert "no drift in what was compared" not in render(_report([]), fmt)


def test_switches_of_a_framework_not_imported_are_not_compared() -> None:
    base = {"determinism": {"frameworks": {"torch": {"version": "2.13.0",
                                                     "deterministic_algorithms": True}}},
            "numerics": [{"name": "p"}]}
    assert not_compared(base, {"determinism": {"frameworks": {}}}) == [
        "determinism:torch.deterministic_algorithms", "numerics"
    ]
    assert not_compared(base, base) == []
