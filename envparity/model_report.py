"""The drift report (schemas/drift-report.v1.json): findings, the policy's effect, and the two
snapshots compared."""

from __future__ import annotations

from datetime import datetime
from typing import Dict, Final, List, Literal, Optional

from pydantic import Field

from .model_base import Scalar, _Model
from .model_measures import BenchmarkComparison
from .severity import SEVERITIES as _SEVERITIES
from .severity import Category as _Category

DRIFT_REPORT_VERSION: Final = 1

Severity = Literal["info", "warning", "error"]
SEVERITIES = _SEVERITIES  # ascending; defined once in envparity.drift.severity
FailOn = Literal["info", "warning", "error", "never"]
Category = _Category  # defined once in envparity.severity


class GroupMember(_Model):
    """One package of a grouped finding ("12 packages the model never loads changed")."""

    key: str
    baseline: Scalar = None
    candidate: Scalar = None
    severity: Severity = "info"
    why: str = ""


class Waiver(_Model):
    """The waiver that covers a finding (``[[tool.envparity.waive]]`` or ``--waive``)."""

    key: str = Field(description='The finding, "category:key".')
    rule: str = Field(description="The waiver's key pattern.")
    reason: str
    until: Optional[str] = Field(None, description="ISO date; null: no end date.")
    expired: bool = Field(False, description="True once until has passed.")


class Finding(_Model):
    """One difference between two environments, and what it means."""

    category: Category
    key: str = Field(description="What differs, e.g. numpy, PYTHONHASHSEED, cpu.flags.avx512f.")
    baseline: Scalar = Field(description="The baseline's value; null when absent there.")
    candidate: Scalar = Field(description="The candidate's value; null when absent there.")
    change: Literal["added", "removed", "changed", "incomplete"] = Field(
        description="incomplete: a probe failed, so the comparison could not be made."
    )
    severity: Severity
    why: str = Field(description="One line a person understands, saying what to do.")
    related: List[str] = Field(
        default_factory=list,
        description='Other "category:key" names this root cause covers (e.g. env:TZ).',
    )
    severity_reason: str = Field(
        "",
        description="Why it has its severity (e.g. 'needed by model.pkl (sklearn...)', "
        "'installer/build tool: never affects results', a policy rule or a waiver).",
    )
    members: List[GroupMember] = Field(
        default_factory=list, description="The packages a grouped finding stands for."
    )
    waived: Optional[Waiver] = None


class RelevanceNote(_Model):
    """Where the report's relevance came from."""

    known: bool = False
    note: str = ""
    sources: List[str] = Field(default_factory=list)


class PolicyChange(_Model):
    """A finding whose severity the policy changed."""

    key: str
    before: str
    after: str
    rule: str


class PolicyEffect(_Model):
    """The policy that applied and what it changed."""

    source: Optional[str] = Field(None, description="The file; null: the default policy.")
    table: Optional[str] = None
    ignored: List[str] = Field(default_factory=list, description="Findings it dropped.")
    changed: List[PolicyChange] = Field(default_factory=list)
    waived: List[Waiver] = Field(default_factory=list)
    expired: List[Waiver] = Field(default_factory=list)


class SnapshotSummary(_Model):
    """Which snapshot a report side is."""

    ref: str = Field(description="The ref as the user gave it.")
    snapshot_id: str
    fingerprint: str
    role: str = ""
    labels: Dict[str, str] = Field(default_factory=dict)
    captured_at: datetime
    hostname: Optional[str] = None


class DriftReport(_Model):
    """The result of ``diff(baseline, candidate, policy)``."""

    schema_version: Literal[1] = DRIFT_REPORT_VERSION
    baseline: SnapshotSummary
    candidate: SnapshotSummary
    verdict: Literal["none", "info", "warning", "error"]
    fail_on: FailOn = "error"
    failed: bool = Field(description="True when the verdict reaches fail_on.")
    counts: Dict[str, int] = Field(default_factory=dict, description="Findings per severity.")
    findings: List[Finding] = Field(default_factory=list)
    benchmarks: List[BenchmarkComparison] = Field(default_factory=list)
    not_compared: List[str] = Field(
        default_factory=list,
        description="Baseline facts that could not be checked (at start-up: the switches of a "
        "framework the server has not imported yet, probe outputs): the verdict covers only "
        "what was compared.",
    )
    relevance: Optional[RelevanceNote] = None
    policy: Optional[PolicyEffect] = None
