"""GitHub Actions: workflow commands that annotate the run, and the job's step summary.

``--format github`` prints one ``::error``, ``::warning`` or ``::notice`` command per finding
(by its severity), then the verdict line. Values are encoded as the runner requires: in the
message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; in a property (the title) ``:`` and
``,`` also become ``%3A`` and ``%2C``. No value can end a command early or start a line of its
own, so a finding cannot forge a command (``::add-mask::``, ``::stop-commands::``). Other
control characters are shown as ``\\xNN``, as every renderer does.
"""

from __future__ import annotations

from typing import List, Mapping, Optional

from ..model import DriftReport
from .escape import show, workflow_data, workflow_property
from .interface import Renderer, verdict_line

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


escape_data = workflow_data
escape_property = workflow_property


def _raw(value: object) -> str:
    # show() writes CR/LF as \\xNN; here they get the runner's own %0D/%0A encoding instead.
    if value is None or isinstance(value, bool):
        return show(value)
    return str(value)


class GithubRenderer(Renderer):
    """Workflow commands for the Actions log: an annotation per finding."""

    name = "github"

    def render(self, report: DriftReport) -> str:
        lines: List[str] = []
        for f in report.findings:
            title = f"envparity {f.severity}: {f.category}:{f.key}"
            message = (
                f"{f.category}:{f.key} {_raw(f.baseline)} -> {_raw(f.candidate)} "
                f"[{f.change}]: {f.why}"
                + (f" ({f.severity} because: {f.severity_reason})" if f.severity_reason else "")
            )
            lines.append(
                f"::{_COMMAND[f.severity]} title={escape_property(title)}::{escape_data(message)}"
            )
        lines.append(verdict_line(report))
        return "\n".join(lines) + "\n"


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


__all__ = ["GithubRenderer", "append_step_summary", "escape_data", "escape_property"]
