"""The fleet view (``envparity fleet``) as text, Markdown or HTML, in the drift report's style.

Every value from the store (roles, labels, problems, ids) goes through :mod:`.escape`, as in the
drift report: terminal text never carries ESC/CR, Markdown never carries markup or links, HTML is
escaped and shares the report's CSS and content security policy.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, NamedTuple, Optional

from ..wording import count, severity_counts, table
from .escape import html_text, markdown, printable
from .style import CSP, CSS

if TYPE_CHECKING:
    from ..fleet import FleetGroup, FleetView
    from ..model import Finding

Escape = Callable[[object], str]
_COLUMNS = (
    "drift", "sightings", "hosts", "first seen", "last seen", "fingerprint", "latest snapshot"
)


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _drift(group: FleetGroup, esc: Escape) -> str:
    if group.problem:
        return f"not compared: {esc(group.problem)}"
    if group.verdict is None:
        return "-"
    if group.verdict == "none":
        return "none"
    counts = severity_counts(group.counts)
    return f"{esc(group.verdict)} ({counts})"


def _title(view: FleetView, esc: Escape) -> str:
    scope = []
    if view.role:
        scope.append(f"role {esc(view.role)}")
    scope += [f"{esc(k)}={esc(v)}" for k, v in sorted(view.labels.items())]
    if view.since:
        scope.append(f"since {_when(view.since)}")
    against = (
        f"against baseline {esc(view.baseline.ref)} ({esc(view.baseline.fingerprint[:12])})"
        if view.baseline
        else "no baseline given (--baseline REF to compare)"
    )
    where = f" ({', '.join(scope)})" if scope else ""
    return (
        f"fleet{where}: {count(view.environments, 'environment')}, "
        f"{count(view.sightings, 'sighting')}; {against}"
    )


def _previous(group: FleetGroup, esc: Escape) -> str:
    """The fingerprints the environment had before an identity-rules upgrade (not drift)."""
    if not group.previous_fingerprints:
        return ""
    was = ", ".join(esc(fp[:12]) for fp in group.previous_fingerprints)
    return f" (was {was} before the schema upgrade)"


def _rows(view: FleetView, esc: Escape) -> List[List[str]]:
    return [
        [
            _drift(g, esc),
            str(g.sightings),
            str(g.hosts),
            _when(g.first_seen),
            _when(g.last_seen),
            esc(g.fingerprint[:12]) + _previous(g, esc),
            esc(g.latest_snapshot_id[:12]),
        ]
        for g in view.groups
    ]


def _terminal(value: object) -> str:
    return printable(str(value))


def text(view: FleetView) -> str:
    lines = [_title(view, _terminal)]
    if view.groups:
        lines += table(_COLUMNS, _rows(view, _terminal))
    return "\n".join(lines) + "\n"


def markdown_page(view: FleetView) -> str:
    lines = [f"**{_title(view, markdown)}**", ""]
    if view.groups:
        lines.append("| " + " | ".join(_COLUMNS) + " |")
        lines.append("|" + "|".join("---" for _ in _COLUMNS) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in _rows(view, markdown)]
    return "\n".join(lines) + "\n"


class GroupDetail(NamedTuple):
    """What the HTML view shows of one environment beyond the counts (read by the CLI from the
    store): the role and labels of its latest sighting and its findings against the baseline."""

    role: Optional[str]
    labels: Dict[str, str]
    findings: List[Finding]


_HTML_COLUMNS = ("role", "labels") + _COLUMNS


def _labels_html(labels: Mapping[str, str]) -> str:
    if not labels:
        return "-"
    return " ".join(
        f'<code class="name">{html_text(k)}={html_text(v)}</code>'
        for k, v in sorted(labels.items())
    )


def _findings_html(findings: List[Finding]) -> str:
    """A ``<details>`` that opens to the environment's findings, worst first."""
    if not findings:
        return ""
    rows = "".join(
        f'<tr class="{html_text(f.severity)}"><td>{html_text(f.severity)}</td>'
        f'<td class="name"><code>{html_text(f.category)}:{html_text(f.key)}</code></td>'
        f"<td><code>{html_text(f.baseline)}</code></td>"
        f"<td><code>{html_text(f.candidate)}</code></td><td>{html_text(f.why)}</td></tr>"
        for f in findings
    )
    return (
        f"<details><summary>{count(len(findings), 'finding')} against the baseline</summary>"
        '<table class="findings"><tr><th>severity</th><th>what</th><th>baseline</th>'
        f"<th>this environment</th><th>what to do</th></tr>{rows}</table></details>"
    )


def html_page(view: FleetView, details: Optional[Mapping[str, GroupDetail]] = None) -> str:
    """The fleet as one page: per environment its role, labels, sightings, first and last seen,
    and (with ``details``) its drift against the baseline, expandable."""
    details = details or {}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        CSP,
        "<title>envparity fleet</title>",
        f"<style>{CSS}\ndetails summary{{cursor:pointer}}table.findings{{margin:.3em 0}}</style>",
        "</head>",
        "<body>",
        f"<h1>{_title(view, html_text)}</h1>",
    ]
    if view.groups:
        out.append('<table class="fleet">')
        out.append("<tr>" + "".join(f"<th>{c}</th>" for c in _HTML_COLUMNS) + "</tr>")
        for group, row in zip(view.groups, _rows(view, html_text)):
            css = html_text(group.verdict or "")
            detail = details.get(group.fingerprint)
            role = group.role or view.role or (detail.role if detail else None)
            anchor = html_text(group.fingerprint[:12])
            cells = [
                f'<td class="name" id="env-{anchor}">{html_text(role) if role else "-"}</td>',
                f"<td>{_labels_html(detail.labels if detail else {})}</td>",
            ]
            cells += [f"<td>{c}</td>" for c in row]
            out.append(f'<tr class="{css}">' + "".join(cells) + "</tr>")
            if detail and detail.findings:
                out.append(
                    f'<tr class="drift"><td colspan="{len(_HTML_COLUMNS)}">'
                    f"{_findings_html(detail.findings)}</td></tr>"
                )
        out.append("</table>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(view: FleetView, fmt: str) -> str:
    """``text``, ``markdown`` or ``html`` (JSON is the model's own, in ``envparity.fleet``)."""
    return {"text": text, "markdown": markdown_page, "html": html_page}[fmt](view)


def render_fleet(
    view: FleetView,
    fmt: str = "text",
    details: Optional[Mapping[str, GroupDetail]] = None,
) -> str:
    """The fleet view as ``text``, ``json``, ``markdown``, ``html`` or ``openmetrics``
    (the documents with the drift report's escaping and style, the metrics by
    :mod:`envparity.report.openmetrics`)."""
    from ..fleet import check_format

    if check_format(fmt) == "json":
        from .escape import json_text

        return json_text(view.model_dump_json(indent=2)) + "\n"
    if fmt == "openmetrics":
        from .openmetrics import render as metrics

        return metrics(view)
    if fmt == "html":
        return html_page(view, details)
    return render(view, fmt)
