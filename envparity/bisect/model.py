"""The bisect report (schemas/bisect-report.v1.json).

Schema history: 1 -- first version.
"""

from __future__ import annotations

from typing import Dict, Final, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..model import Scalar

BISECT_REPORT_VERSION: Final = 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class DifferenceRow(_Model):
    """One difference between the baseline and the candidate, as the bisect sorted it."""

    key: str = Field(description="The finding key: numpy, TZ, OPENBLAS_NUM_THREADS, model ...")
    category: str
    kind: Literal["env", "overlay", "hide", "untestable"] = Field(
        description="env: restored in the child's environment; overlay: the baseline version "
        "installed into a temporary directory first on the child's path; hide: absent in the "
        "baseline, hidden from the child; untestable: hardware, Python, OS, libc, driver, code."
    )
    baseline: Scalar = None
    candidate: Scalar = None
    reason: str = Field("", description="How it is restored, or why it cannot be.")
    related: List[str] = Field(
        default_factory=list, description="Other findings with the same root cause."
    )


class CauseSet(_Model):
    """Differences whose restoration together removes the symptom (1-minimal: restoring any one
    less brings it back)."""

    keys: List[str]
    interaction: bool = Field(
        description="More than one key: only the combination removes the symptom."
    )
    restored_with: List[str] = Field(
        default_factory=list,
        description="Dependents restored together because an overlay could not import alone.",
    )
    prerequisites: List[str] = Field(
        default_factory=list,
        description="Restored because the keys cannot import without them (a prerequisite, "
        "not an interaction: restoring the keys without them could not run).",
    )
    minimal: bool = Field(True, description="False when the budget ran out before ddmin ended.")
    after: str = Field("", description="The symptom's evidence with this set restored.")
    ratio_after: Optional[float] = Field(None, description="Benchmarks: time ratio after.")


class SymptomReport(_Model):
    """One probe or benchmark the bisect chased."""

    name: str
    kind: Literal["probe", "benchmark"]
    status: Literal["explained", "unexplained", "not_reproduced", "unresolved"] = Field(
        description="explained: cause set(s) found; unexplained: restoring every testable "
        "difference leaves it (the cause is among the untestable ones); not_reproduced: it does "
        "not show in the candidate; unresolved: the trials could not decide."
    )
    before: str = Field("", description="The evidence in the candidate as it is.")
    ratio_before: Optional[float] = None
    causes: List[CauseSet] = Field(
        default_factory=list,
        description="Alternative causes: each set removes the symptom on its own.",
    )
    not_needed: List[str] = Field(
        default_factory=list, description="Restorable differences not needed to remove it."
    )
    untestable: List[str] = Field(
        default_factory=list, description="When unexplained: where the cause must be."
    )
    note: str = ""


class TrialRow(_Model):
    """One child process."""

    index: int
    restored: List[str]
    with_dependents: List[str] = Field(default_factory=list)
    seconds: float
    status: Literal["ok", "import_error", "timeout", "crashed"]
    outcomes: Dict[str, Literal["gone", "present", "unresolved"]] = Field(default_factory=dict)
    detail: str = ""


class BisectReport(_Model):
    """The result of ``envparity bisect``."""

    schema_version: Literal[1] = BISECT_REPORT_VERSION
    baseline: str = Field(description="The baseline ref as given.")
    baseline_id: str
    candidate: str = Field(description="The candidate's interpreter.")
    outcome: Literal["cause_found", "unexplained", "not_reproduced"]
    symptoms: List[SymptomReport] = Field(default_factory=list)
    differences: List[DifferenceRow] = Field(default_factory=list)
    trials: List[TrialRow] = Field(default_factory=list)
    wall_seconds: float = 0.0
    budget_seconds: float
    max_trials: int
    stopped: Optional[str] = Field(None, description="Why the search stopped early, if it did.")
    overlays: Optional[str] = Field(None, description="Overlay directory kept with --keep.")
    notes: List[str] = Field(default_factory=list)
