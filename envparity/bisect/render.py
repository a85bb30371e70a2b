"""The bisect report as text, Markdown or JSON.

Values come from environments and user code (probe names, variable values, error messages), so
they go through the report package's one escaping layer: :func:`~envparity.report.interface.
printable` for text (control characters written as ``\\xNN``) and the Markdown renderer's
``cell``/``code`` (HTML-escaped, no bare pipes or backticks) for Markdown.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from ..errors import BadInput
from ..report.interface import printable, show
from ..report.markdown import cell, code
from .model import BisectReport, CauseSet, SymptomReport

FORMATS = ("text", "json", "markdown")

_HEAD = {
    "cause_found": "cause found",
    "unexplained": "no testable difference explains the symptom",
    "not_reproduced": "the symptom does not reproduce here: nothing to bisect",
}


def check_format(fmt: str) -> str:
    """``fmt`` if bisect can render it, else a BadInput listing the formats."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def render(report: BisectReport, fmt: str) -> str:
    """The whole document in ``fmt``, ending with a newline."""
    check_format(fmt)
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    return _text(report)


def headline(report: BisectReport) -> str:
    """One line: the outcome, the trials and their time."""
    return (
        f"envparity bisect: {_HEAD[report.outcome]} ({len(report.trials)} trials, "
        f"{report.wall_seconds:.1f} s)"
    )


def _cause(c: CauseSet, esc: Callable[[Any], str], versions: Dict[str, str]) -> str:
    text = " + ".join(esc(k) for k in c.keys)
    if c.interaction:
        text += " (together: only restoring all of them removes it)"
    if c.prerequisites:
        # A prerequisite, not a cause: restored so that the cause can import at all.
        them = ", ".join(
            esc(f"{k} {versions[k]}" if versions.get(k) else k) for k in c.prerequisites
        )
        which = "which they need" if len(c.keys) > 1 else "which it needs"
        text += f" (restored with {them}, {which} to import)"
    if c.restored_with:
        them = "them" if len(c.restored_with) > 1 else "it"
        text += (
            f" (restored with {', '.join(esc(k) for k in c.restored_with)}: the overlay could "
            f"not import without {them})"
        )
    if not c.minimal:
        text += " (not proven minimal: the search stopped early)"
    return text


def _versions(report: BisectReport) -> Dict[str, str]:
    """Difference key -> its baseline version (packages), for naming what was restored."""
    return {
        d.key: str(d.baseline)
        for d in report.differences
        if d.category == "package" and isinstance(d.baseline, str)
    }


def _lines(text: str, esc: Callable[[Any], str], indent: str) -> str:
    """Multi-line evidence (a per-column report) as lines of its own, each escaped: a newline of
    our own text is a line break, not a control character to show as ``\\x0a``."""
    parts = [p for p in str(text).split("\n") if p.strip()]
    return f"\n{indent}".join(esc(p.strip()) for p in parts)


def _symptom_lines(
    s: SymptomReport,
    esc: Callable[[Any], str],
    bullet: str,
    nested: str,
    versions: Optional[Dict[str, str]] = None,
) -> List[str]:
    versions = versions or {}
    lines = [f"{s.kind} {esc(s.name)}: {s.status.replace('_', ' ')}"]
    if s.before:
        lines.append(f"{bullet}before: {_lines(s.before, esc, nested)}")
    if len(s.causes) > 1:
        lines.append(f"{bullet}alternative causes (each removes it on its own):")
    for n, c in enumerate(s.causes, 1):
        label = "cause" if len(s.causes) == 1 else f"cause {n} of {len(s.causes)}"
        lines.append(f"{bullet}{label}: {_cause(c, esc, versions)}")
        if c.after:
            lines.append(f"{nested}after restoring it: {_lines(c.after, esc, nested + '  ')}")
    if s.not_needed:
        lines.append(f"{bullet}not needed: {', '.join(esc(k) for k in s.not_needed)}")
    if s.untestable:
        lines.append(f"{bullet}the cause is among: {', '.join(esc(k) for k in s.untestable)}")
    if s.note:
        lines.append(f"{bullet}{_lines(s.note, esc, nested)}")
    return lines


def _text(report: BisectReport) -> str:
    def esc(value: Any) -> str:
        return show(value)

    lines = [headline(report), f"  baseline:  {printable(report.baseline)}",
             f"  candidate: {printable(report.candidate)}"]
    for s in report.symptoms:
        lines.append("")
        lines.extend(_symptom_lines(s, esc, "  ", "      ", _versions(report)))
    lines += ["", "Differences:"]
    for d in report.differences:
        lines.append(
            f"  {d.kind:<10} {d.category}:{esc(d.key)}  {esc(d.baseline)} -> {esc(d.candidate)}"
            f"  ({esc(d.reason)})"
            + (f" [also {', '.join(esc(k) for k in d.related)}]" if d.related else "")
        )
    lines += ["", f"Trials ({len(report.trials)}):"]
    for t in report.trials:
        restored = ", ".join(esc(k) for k in t.restored) or "(nothing)"
        if t.with_dependents:
            restored += f" (with {', '.join(esc(k) for k in t.with_dependents)})"
        outcomes = ", ".join(f"{esc(k)} {v}" for k, v in sorted(t.outcomes.items()))
        lines.append(f"  #{t.index} restore {restored}: {t.status}, {outcomes} ({t.seconds:.1f} s)")
        if t.detail:
            lines.append(f"      {_lines(t.detail, esc, '      ')}")
    if report.stopped:
        lines.append(f"Stopped early: {esc(report.stopped)}")
    lines.extend(f"Note: {esc(n)}" for n in report.notes)
    if report.overlays:
        lines.append(f"Overlays kept in {esc(report.overlays)}")
    return "\n".join(lines) + "\n"


def _markdown(report: BisectReport) -> str:
    lines = [
        f"**{headline(report)}**",  # our own words and numbers: nothing to escape
        "",
        f"- baseline: {cell(report.baseline)}",
        f"- candidate: {cell(report.candidate)}",
    ]
    for s in report.symptoms:
        sub = _symptom_lines(s, cell, "  - ", "    - ", _versions(report))
        lines += ["", f"- {sub[0]}", *sub[1:]]
    lines += [
        "",
        "<details>",
        "<summary><b>differences</b></summary>",
        "",
        "| kind | key | baseline | candidate | how / why not |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in report.differences:
        lines.append(
            f"| {d.kind} | {code(d.category + ':' + d.key)} | {code(d.baseline)} | "
            f"{code(d.candidate)} | {cell(d.reason)} |"
        )
    lines += ["", "</details>", "", "<details>", "<summary><b>trials</b></summary>", "",
              "| # | restored | status | outcomes | seconds | detail |",
              "| --- | --- | --- | --- | --- | --- |"]
    for t in report.trials:
        restored = ", ".join(code(k) for k in t.restored) or "(nothing)"
        if t.with_dependents:
            restored += f" (with {', '.join(code(k) for k in t.with_dependents)})"
        outcomes = ", ".join(f"{cell(k)} {v}" for k, v in sorted(t.outcomes.items()))
        lines.append(
            f"| {t.index} | {restored} | {t.status} | {outcomes} | {t.seconds:.1f} | "
            f"{cell(t.detail)} |"
        )
    lines += ["", "</details>"]
    if report.stopped:
        lines += ["", f"Stopped early: {cell(report.stopped)}"]
    lines += [f"- note: {cell(n)}" for n in report.notes]
    if report.overlays:
        lines += ["", f"Overlays kept in {code(report.overlays)}"]
    return "\n".join(lines) + "\n"
