"""Options every command spells the same way (docs/design.md, "One CLI convention").

``--format`` wherever data is printed, with ``--json`` as an alias of ``--format json``;
enumerated options as choices, so ``--help`` lists them and a typo is refused before any work;
each option that has an ``ENVPARITY_*`` variable honours it in every command. (``envparity run``
alone reads its options as strings: there a bad value is logged and the server still starts.)

No ``from __future__ import annotations``: Typer on Python 3.9 needs real annotations.
"""

from enum import Enum
from typing import Annotated, Any, List, Optional

import typer

from ..drift.severity import FAIL_ON
from ..report import FORMATS as REPORT_FORMATS


class DataFormat(str, Enum):
    """list, show, tag, db, bench, snapshot, prune."""

    text = "text"
    json = "json"


class ReportFormat(str, Enum):
    """diff and check."""

    text = "text"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    html = "html"
    github = "github"


class BisectFormat(str, Enum):
    """bisect."""

    text = "text"
    json = "json"
    markdown = "markdown"


class FleetFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    openmetrics = "openmetrics"


class ExportFormat(str, Enum):
    requirements = "requirements"
    constraints = "constraints"
    pylock = "pylock"
    cyclonedx = "cyclonedx"


class FailOn(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"
    never = "never"


class Suite(str, Enum):
    quick = "quick"
    full = "full"


class SchemaName(str, Enum):
    """The documents whose schemas ship (envparity.shipped finds each one's newest version)."""

    bisect_report = "bisect-report"
    drift_report = "drift-report"
    snapshot = "snapshot"


class RecipeName(str, Enum):
    ci_drift = "ci-drift"
    grafana = "grafana"


# The choices above are the library's own lists, spelled as Enums so that --help lists them; a
# list changed in one place and not the other fails at import, not in a user's hands.
def _same(enum: "type[Enum]", names: "tuple[str, ...]") -> None:
    if tuple(m.value for m in enum) != tuple(names):  # pragma: no cover - a programming error
        raise AssertionError(f"{enum.__name__} {[m.value for m in enum]} != {list(names)}")


_same(FailOn, FAIL_ON)
_same(ReportFormat, REPORT_FORMATS)


def chosen(fmt: "Enum", json_: bool) -> str:
    """The format to use: ``--json`` is ``--format json``."""
    return "json" if json_ else str(fmt.value)


JsonAlias = Annotated[bool, typer.Option("--json", help="Same as --format json.")]

DataFormatOpt = Annotated[
    DataFormat, typer.Option("--format", "-f", help="Print text or JSON.", case_sensitive=False)
]

DbOpt = Annotated[
    Optional[str],
    typer.Option(
        "--db",
        envvar="ENVPARITY_DB_URL",
        metavar="URL",
        help="Database URL (sqlite:///PATH or postgresql+psycopg://...). Default: SQLite in "
        "$ENVPARITY_HOME or the user data directory.",
        show_default=False,
    ),
]

PolicyOpt = Annotated[
    Optional[str],
    typer.Option(
        "--policy",
        envvar="ENVPARITY_POLICY",
        metavar="FILE",
        help="A TOML policy file (default: the tool.envparity table of the nearest pyproject.toml "
        "upward from here).",
    ),
]

FailOnOpt = Annotated[
    Optional[FailOn],
    typer.Option(
        "--fail-on",
        envvar="ENVPARITY_FAIL_ON",
        case_sensitive=False,
        help="Exit 1 when drift reaches this severity (default: the policy's fail_on, else "
        "error).",
    ),
]

OutputOpt = Annotated[
    Optional[str],
    typer.Option("--output", "-o", metavar="FILE", help="Write it to this file ('-': stdout)."),
]

LabelOpt = Annotated[
    Optional[List[str]],
    typer.Option(metavar="KEY=VALUE", help="KEY=VALUE, repeatable, e.g. model=fraud."),
]


def _click() -> Any:
    try:
        from typer import _click as click  # Typer 0.28+ vendors its own Click
    except ImportError:  # pragma: no cover - older Typer uses Click itself
        import click  # type: ignore[no-redef]
    return click


class _Placeholder(_click().types.StringParamType):  # type: ignore[misc]
    """A string argument whose help shows only its metavar (REF, NAME), not also ``<str>``."""

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return ""


NAMED = _Placeholder()


def argument(metavar: str, help: str, **kwargs: Any) -> Any:
    """``typer.Argument`` for a string shown as ``metavar`` in usage and help."""
    return typer.Argument(metavar=metavar, help=help, click_type=NAMED, **kwargs)
