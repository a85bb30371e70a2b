"""The user's drift policy: what to ignore, which severities to change, and when to fail.

A policy lives in ``[tool.envparity]`` of the project's pyproject.toml, or in a TOML file given
with ``--policy`` (top-level keys, or a ``[tool.envparity]`` table)::

    [tool.envparity]
    fail_on = "warning"                    # info | warning | error | never
    ignore = ["package:pip", "gpu:*"]      # globs on "category:key"; "gpu" alone means "gpu:*"

    probes = ["mypkg.parity"]              # modules that register parity probes on import
    model = ["models/model.pkl"]           # what a snapshot records when --model is not given

    [tool.envparity.severity]
    "package:numpy" = "error"              # a key (glob allowed)...
    blas = "info"                          # ...or a whole category; "ignore" drops it

    [[tool.envparity.waive]]               # a finding accepted, with a reason, until a date
    key = "package:numpy"
    reason = "numpy 2 validated by the parity probes"
    until = 2027-01-31

An invalid policy is a :class:`~envparity.errors.BadInput` naming the file, the line and the key.

The rules themselves (reading, validating, matching) are defined once, on plain data, in
:mod:`envparity.drift.policy`, which the start-up hook uses without pydantic; :class:`Policy` is
their pydantic face and delegates to them.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Literal, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .drift import policy as plain
from .drift.policy import find_pyproject
from .model import FailOn, Finding

__all__ = ["Policy", "SeverityOverride", "find_pyproject", "load_policy", "policy_from_mapping"]

SeverityOverride = Literal["info", "warning", "error", "ignore"]


class Policy(BaseModel):
    """Ignore globs, severity overrides and the fail-on threshold applied to a drift report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_on: FailOn = "error"
    ignore: List[str] = Field(
        default_factory=list, description='Globs on "category:key", e.g. "package:pip", "gpu:*".'
    )
    severity: Dict[str, SeverityOverride] = Field(
        default_factory=dict, description='"category:key" glob or category -> severity or ignore.'
    )
    probes: List[str] = Field(
        default_factory=list,
        description="Modules that call envparity.register_probe on import (parity probes).",
    )
    model: List[str] = Field(
        default_factory=list,
        description="Model artifacts a snapshot records when --model is not given.",
    )
    waive: List[Dict[str, Any]] = Field(
        default_factory=list,
        description='Waivers: {"key": glob, "reason": text, "until": "YYYY-MM-DD" or null}.',
    )
    # Where the policy was read from (for messages); None for the default policy.
    source: Optional[str] = None
    # The table in it ("[tool.envparity]", or "" for top-level keys).
    table: Optional[str] = None
    _rules: Optional[plain.Rules] = PrivateAttr(None)

    def as_rules(self) -> plain.Rules:
        """This policy as the plain :class:`~envparity.drift.policy.Rules` that decide for it
        (built once; a ``model_copy(update=...)`` gets its own)."""
        cached = self._rules
        if (
            cached is None
            or cached.fail_on != self.fail_on
            or cached.ignore != self.ignore
            or cached.severity != self.severity
            or cached.probes != self.probes
            or cached.source != self.source
            or cached.table != self.table
            or cached.model != self.model
            or cached.waive != self.waive
        ):
            cached = plain.Rules(
                fail_on=self.fail_on,
                ignore=self.ignore,
                severity=dict(self.severity),
                probes=self.probes,
                source=self.source,
                table=self.table,
                model=self.model,
                waive=self.waive,
            )
            self._rules = cached
        return cached

    def decider(self) -> Optional[Callable[[str, str, str], Optional[str]]]:
        """:meth:`decide`, or None when the policy changes no finding (the engine then skips it:
        thousands of findings, no call each)."""
        return self.as_rules().decider()

    def decide(self, category: str, key: str, severity: str) -> Optional[str]:
        """The severity a finding ``category:key`` gets, or None when the policy ignores it."""
        return self.as_rules().decide(category, key, severity)

    def explain(self, category: str, key: str, severity: str) -> Tuple[Optional[str], str]:
        """:meth:`decide` and the rule that decided (see ``Rules.explain``)."""
        return self.as_rules().explain(category, key, severity)

    @property
    def waivers(self) -> List[Dict[str, Any]]:
        return self.as_rules().waive

    @property
    def today(self) -> str:
        return self.as_rules().today

    def with_waivers(self, waivers: List[Dict[str, Any]]) -> Policy:
        """This policy with more waivers (``--waive KEY --reason TEXT [--until DATE]``)."""
        return self.model_copy(update={"waive": list(self.waive) + [dict(w) for w in waivers]})

    def apply(self, finding: Finding) -> Optional[Finding]:
        """The finding with its severity overridden, or None when the policy ignores it."""
        severity = self.decide(finding.category, finding.key, finding.severity)
        if severity is None:
            return None
        if severity != finding.severity:
            return finding.model_copy(update={"severity": severity})
        return finding


def policy_from_mapping(
    data: Dict[str, Any], *, path: str, text: str = "", table: str = ""
) -> Policy:
    """Validate a parsed policy table; every problem is a BadInput naming the line and key."""
    return Policy(**plain.validate(data, path=path, text=text, table=table))


def load_policy(path: Optional[str] = None, cwd: str = ".") -> Policy:
    """The policy in ``path`` (a TOML file), else ``[tool.envparity]`` of the nearest
    pyproject.toml upward from ``cwd``.

    With no file and no ``[tool.envparity]`` table, the default policy (fail on error).
    """
    return Policy(**plain.load_fields(path, cwd))
