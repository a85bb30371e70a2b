"""GitHub Actions: workflow commands that annotate the run, and the job's step summary.

``--format github`` prints one ``::error`` or ``::warning`` command per finding, as many as the
runner shows (at most 10 of each kind per step; errors first), anchored with ``file=``/``line=``
to the dependency file that pins the package (:mod:`.pins`); one ``::notice`` folds the info
findings and those left out, then the verdict line. :func:`append_outputs` writes the verdict,
counts and fingerprints to ``$GITHUB_OUTPUT``. Values are encoded as the runner requires: in the
message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; in a property (the title) ``:`` and
``,`` also become ``%3A`` and ``%2C``. No value can end a command early or start a line of its
own, so a finding cannot forge a command (``::add-mask::``, ``::stop-commands::``). Other
control characters are shown as ``\\xNN``, as every renderer does.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from ..model import DriftReport, Finding
from .escape import show, workflow_data, workflow_property
from .interface import Renderer, verdict_line
from .pins import Pin, find_pins, normalize

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}

#: The runner shows at most this many annotations of each kind per step and drops the rest.
MAX_PER_KIND = 10


escape_data = workflow_data
escape_property = workflow_property


def _raw(value: object) -> str:
    # show() writes CR/LF as \\xNN; here they get the runner's own %0D/%0A encoding instead.
    if value is None or isinstance(value, bool):
        return show(value)
    return str(value)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class GithubRenderer(Renderer):
    """Workflow commands for the Actions log: an annotation per error and warning, as many as
    the runner shows (errors first, then warnings, at most :data:`MAX_PER_KIND` of each), each
    anchored to the line that pins its package when a dependency file names it; the info
    findings and whatever did not fit are one notice pointing at the step summary."""

    name = "github"

    def __init__(self, pins: Optional[Mapping[str, Pin]] = None) -> None:
        #: normalized package name -> (file, line); None: search the current directory.
        self.pins = pins

    def _anchor(self, f: Finding) -> str:
        if f.category != "package":
            return ""
        if self.pins is None:
            self.pins = find_pins()
        pin = self.pins.get(normalize(f.key))
        if pin is None:
            return ""
        return f"file={escape_property(pin[0])},line={pin[1]},"

    def render(self, report: DriftReport) -> str:
        lines: List[str] = []
        left: Dict[str, int] = {}
        for severity in ("error", "warning"):
            findings = [f for f in report.findings if f.severity == severity]
            for f in findings[:MAX_PER_KIND]:
                title = f"envparity {f.severity}: {f.category}:{f.key}"
                message = (
                    f"{f.category}:{f.key} {_raw(f.baseline)} -> {_raw(f.candidate)} "
                    f"[{f.change}]: {f.why}"
                    + (f" ({f.severity} because: {f.severity_reason})" if f.severity_reason else "")
                )
                lines.append(
                    f"::{_COMMAND[severity]} {self._anchor(f)}title={escape_property(title)}"
                    f"::{escape_data(message)}"
                )
            left[severity] = max(0, len(findings) - MAX_PER_KIND)
        left["info"] = sum(1 for f in report.findings if f.severity == "info")
        folded = [
            _plural(left["error"], "more error"),
            _plural(left["warning"], "more warning"),
            _plural(left["info"], "info finding"),
        ]
        folded = [text for text, n in zip(folded, left.values()) if n]
        if folded:
            message = f"{', '.join(folded)} in the step summary"
            lines.append(
                f"::notice title={escape_property('envparity: ' + message)}::"
                f"{escape_data(message + ' (and in envparity diff --format markdown)')}"
            )
        lines.append(verdict_line(report))
        return "\n".join(lines) + "\n"


def outputs(report: DriftReport) -> Dict[str, str]:
    """The step outputs a workflow reads (``steps.ID.outputs.verdict``): the verdict, whether it
    failed, the counts per severity and both fingerprints."""
    return {
        "verdict": report.verdict,
        "failed": "true" if report.failed else "false",
        "errors": str(report.counts.get("error", 0)),
        "warnings": str(report.counts.get("warning", 0)),
        "infos": str(report.counts.get("info", 0)),
        "fingerprint": report.candidate.fingerprint,
        "baseline-fingerprint": report.baseline.fingerprint,
    }


def output_lines(values: Mapping[str, str]) -> str:
    """``name=value`` lines for ``$GITHUB_OUTPUT``; a value with a line break (or one that could
    be read as a delimiter) as ``name<<DELIM`` ... ``DELIM``, DELIM a random word not in it."""
    import uuid

    out: List[str] = []
    for name, value in values.items():
        if "\n" in value or "\r" in value or "<<" in name:
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
            out += [f"{name}<<{delimiter}", value, delimiter]
        else:
            out.append(f"{name}={value}")
    return "".join(line + "\n" for line in out)


def append_outputs(values: Mapping[str, str], environ: Mapping[str, str]) -> Optional[str]:
    """Append ``values`` to ``$GITHUB_OUTPUT`` when it is set; returns why it could not, else
    None."""
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return None
    from ..writer import append_runner

    try:
        append_runner(path, output_lines(values).encode("utf-8"))
    except OSError as e:
        return f"GITHUB_OUTPUT {path}: cannot append ({e.strerror or e})"
    return None


def append_summary_text(text: str, environ: Mapping[str, str]) -> Optional[str]:
    """Append Markdown ``text`` to ``$GITHUB_STEP_SUMMARY`` when it is set; returns why it could
    not, else None."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    from ..writer import append_runner

    try:
        append_runner(path, (text.rstrip("\n") + "\n\n").encode("utf-8"))
    except OSError as e:
        return f"GITHUB_STEP_SUMMARY {path}: cannot append ({e.strerror or e})"
    return None


def append_step_summary(
    report: DriftReport,
    environ: Mapping[str, str],
    markdown: Optional[str] = None,
    *,
    max_bytes: Optional[int] = None,
) -> Optional[str]:
    """Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` when it is set (capped at
    ``max_bytes``, by default GitHub's 1 MiB limit for a step summary).

    Returns why it could not (the report itself is still printed), else None.
    """
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    if markdown is None:
        from .markdown import MarkdownRenderer

        markdown = MarkdownRenderer(max_bytes).render(report)
    from ..writer import append_runner

    try:
        append_runner(path, (markdown + "\n").encode("utf-8"))
    except OSError as e:
        return f"GITHUB_STEP_SUMMARY {path}: cannot append ({e.strerror or e})"
    return None


__all__ = [
    "MAX_PER_KIND",
    "GithubRenderer",
    "append_outputs",
    "append_step_summary",
    "append_summary_text",
    "escape_data",
    "escape_property",
    "output_lines",
    "outputs",
]
