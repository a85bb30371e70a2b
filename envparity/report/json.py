"""The report as JSON: the model's own serialization, keys sorted, stable between runs.

Its schema is committed as ``schemas/drift-report.v1.json``. ASCII only: every control, bidi
override and non-ASCII character is a ``\\uXXXX`` escape, so no value acts on a terminal or
reorders text when the file is printed. Always complete (never cut to a size).
"""

from __future__ import annotations

import json

from ..model import DriftReport
from .interface import Renderer


class JsonRenderer(Renderer):
    """Machine-readable; validates against schemas/drift-report.v1.json."""

    name = "json"

    def render(self, report: DriftReport) -> str:
        data = report.model_dump(mode="json")
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
