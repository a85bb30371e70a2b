"""The start-up hook's configuration: options given in code or on the command line, or ENVPARITY_*.

A serving image should need nothing but ``ENTRYPOINT ["envparity", "run", "--"]`` and environment
variables, so every option has a variable. A value that cannot be used is not fatal here: the hook
must never take a server down for a typo, so :func:`load_config` keeps the default for that option
and returns the problem for the hook to log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from ..drift.severity import FAIL_ON
from ..errors import BadInput
from ..labels import LabelsArg, parse_labels, utf8_text
from ..labels import shown as _shown

ON_DRIFT = ("warn", "fail")
DEFAULT_BUDGET_S = 2.0
#: The longest budget taken as given: past it a value is clamped (and the clamp logged). A start-up
#: check that may take an hour has no use for more, and a timeout far beyond it overflows the
#: platform's time_t in ``Thread.join`` (``ENVPARITY_BUDGET_S=1e10`` stopped the server).
MAX_BUDGET_S = 3600.0
DEFAULT_ROLE = "serving"

# option -> the variable it falls back to.
VARIABLES = {
    "baseline": "ENVPARITY_BASELINE",
    "on_drift": "ENVPARITY_ON_DRIFT",
    "role": "ENVPARITY_ROLE",
    "labels": "ENVPARITY_LABELS",
    "db_url": "ENVPARITY_DB_URL",
    "spool_dir": "ENVPARITY_SPOOL_DIR",
    "budget_s": "ENVPARITY_BUDGET_S",
    "fail_on": "ENVPARITY_FAIL_ON",
    "policy": "ENVPARITY_POLICY",
}
# option -> how the command line spells it (and how problems name it).
FLAGS = {
    "baseline": "--baseline",
    "on_drift": "--on-drift",
    "role": "--role",
    "labels": "--label",
    "db_url": "--db",
    "spool_dir": "--spool-dir",
    "budget_s": "--budget",
    "fail_on": "--fail-on",
    "policy": "--policy",
}


@dataclass(frozen=True)
class HookConfig:
    """What the start-up check does; see :func:`load_config`."""

    baseline: Optional[str] = None
    on_drift: str = "warn"
    role: str = DEFAULT_ROLE
    labels: Dict[str, str] = field(default_factory=dict)
    db_url: Optional[str] = None
    spool_dir: Optional[str] = None
    budget_s: float = DEFAULT_BUDGET_S
    fail_on: Optional[str] = None  # None: the policy's fail_on
    policy: Optional[str] = None  # a TOML file; None: the nearest pyproject.toml upward


_utf8 = utf8_text


def _budget(value: str, source: str, problems: List[str]) -> float:
    try:
        budget = float(value)
    except (TypeError, ValueError, OverflowError):
        budget = math.nan
    if not (math.isfinite(budget) and budget > 0) and budget != math.inf:
        raise BadInput(f"{source}={_shown(value)}: expected a number of seconds above 0, e.g. 2")
    if budget > MAX_BUDGET_S:
        problems.append(
            f"{source}={_shown(value)}: more than {MAX_BUDGET_S:g} s; using {MAX_BUDGET_S:g}"
        )
        return MAX_BUDGET_S
    return budget


def _choice(value: str, choices: Tuple[str, ...], source: str) -> str:
    normalized = value.strip().lower()
    if normalized not in choices:
        raise BadInput(f"{source}={_shown(value)}: expected one of {', '.join(choices)}")
    return normalized


def load_config(
    environ: Mapping[str, str],
    *,
    baseline: Optional[str] = None,
    on_drift: Optional[str] = None,
    role: Optional[str] = None,
    labels: LabelsArg = None,
    db_url: Optional[str] = None,
    spool_dir: Optional[str] = None,
    budget_s: Union[None, str, float] = None,
    fail_on: Optional[str] = None,
    policy: Optional[str] = None,
) -> Tuple[HookConfig, List[str]]:
    """The configuration from explicit options, falling back to ``environ``'s ENVPARITY_* values.

    Returns the configuration and the problems found (one line each); an option with a problem
    keeps its default. An explicit option wins over its variable; labels from both are merged.
    """
    problems: List[str] = []

    def pick(name: str, value: Any) -> Tuple[Optional[str], str]:
        # The option when given, else its variable; with where it came from, to name in problems.
        if value is not None and str(value).strip():
            return str(value).strip(), FLAGS[name]
        return environ.get(VARIABLES[name], "").strip() or None, VARIABLES[name]

    def checked(name: str, value: Any, check: Callable[[str, str], Any]) -> Any:
        raw, source = pick(name, value)
        if raw is None:
            return None
        try:
            return check(raw, source)
        except BadInput as e:
            problems.append(f"{e}; using the default")
            return None

    merged: Dict[str, str] = {}
    from_env = environ.get(VARIABLES["labels"])
    for value, source in ((from_env, VARIABLES["labels"]), (labels, FLAGS["labels"])):
        try:
            merged.update(parse_labels(value, source, problems))
        except BadInput as e:
            problems.append(f"{e}; ignoring {source}")
    config = HookConfig(
        baseline=pick("baseline", baseline)[0],
        on_drift=checked("on_drift", on_drift, lambda v, s: _choice(v, ON_DRIFT, s)) or "warn",
        role=checked("role", role, _utf8) or DEFAULT_ROLE,
        labels=merged,
        db_url=pick("db_url", db_url)[0],
        spool_dir=pick("spool_dir", spool_dir)[0],
        budget_s=checked("budget_s", budget_s, lambda v, s: _budget(v, s, problems))
        or DEFAULT_BUDGET_S,
        fail_on=checked("fail_on", fail_on, lambda v, s: _choice(v, FAIL_ON, s)),
        policy=pick("policy", policy)[0],
    )
    return config, problems
