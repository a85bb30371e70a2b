"""The report as JSON: the model's own serialization, keys sorted, stable between runs.

Its schema is committed as ``schemas/drift-report.v1.json``.
"""

from __future__ import annotations

import json

from ..model import DriftReport
from .interface import Renderer


class JsonRenderer(Renderer):
    """Machine-readable; validates against schemas/drift-report.v1.json."""

    name = "json"

    def render(self, report: DriftReport) -> str:
        return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
