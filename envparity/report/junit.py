"""JUnit XML for a CI test tab: one test case per finding; failures follow the effective fail-on.

The effective fail-on is the report's own (the policy's ``fail_on``, overridden by ``--fail-on``),
so the JUnit failures and the exit code of ``envparity diff``/``check`` always agree. Built with
ElementTree, which escapes text and attributes; control and bidi characters are written visibly
first and what XML 1.0 cannot hold is replaced, so the document is always well formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import DriftReport
from .escape import printable, show, xml_text
from .interface import Renderer, at_or_above, counts_line, describe, finding_values, verdict_line


def _x(text: str) -> str:
    return xml_text(printable(text))


class JunitRenderer(Renderer):
    """One ``<testsuite>``; a report with no findings has one passing test case."""

    name = "junit"

    def render(self, report: DriftReport) -> str:
        cases = []
        failures = 0
        for f in report.findings:
            case = ET.Element(
                "testcase", {"classname": _x(f"envparity.{f.category}"), "name": _x(f.key)}
            )
            detail = f"{f.severity}: {f.category}:{f.key} {finding_values(f)}: {f.why}"
            if f.related:
                detail += f" (related: {', '.join(f.related)})"
            if f.severity_reason:
                detail += f"; {f.severity} because: {f.severity_reason}"
            if at_or_above(f, report.fail_on):
                failures += 1
                failure = ET.SubElement(
                    case, "failure", {"type": f.severity, "message": _x(f"{f.severity}: {f.why}")}
                )
                failure.text = _x(detail)
            else:
                ET.SubElement(case, "system-out").text = _x(detail)
            cases.append(case)
        if not cases:
            cases.append(ET.Element("testcase", {"classname": "envparity", "name": "no drift"}))
        suite = ET.Element(
            "testsuite",
            {
                "name": "envparity drift",
                "tests": str(len(cases)),
                "failures": str(failures),
                "errors": "0",
                "skipped": "0",
                "timestamp": report.candidate.captured_at.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("baseline", describe(report.baseline)),
            ("candidate", describe(report.candidate)),
            ("verdict", report.verdict),
            ("fail_on", report.fail_on),
            ("failed", show(report.failed)),
            ("counts", counts_line(report)),
        ):
            ET.SubElement(props, "property", {"name": name, "value": _x(value)})
        suite.extend(cases)
        ET.SubElement(suite, "system-out").text = _x(verdict_line(report))
        root = ET.Element(
            "testsuites",
            {"name": "envparity", "tests": str(len(cases)), "failures": str(failures)},
        )
        root.append(suite)
        ET.indent(root)  # one element a line: readable, and diffable when committed
        body = ET.tostring(root, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
