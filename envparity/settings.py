"""Every ``ENVPARITY_*`` variable envparity reads, as data: name, the options it stands for, its
default and what it does. Stdlib only, and nothing reads it at run time: the reference page
``docs/reference/environment.md`` is generated from this table (scripts/gen_docs_reference.py),
and a test fails when the code reads a variable the table does not list.

Rule: a variable that stands for an option is honoured by every command that has the option
(an option given on the command line wins). ``--label`` and ``--role`` as *filters* (``list``,
``fleet``) do not read ``ENVPARITY_LABELS``/``ENVPARITY_ROLE``: a container's own labels would
silently narrow every query.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple


class Setting(NamedTuple):
    """One ``ENVPARITY_*`` variable."""

    name: str
    options: str  # the options it stands for, with their commands; "" when none
    default: str
    meaning: str


SETTINGS: Tuple[Setting, ...] = (
    Setting(
        "ENVPARITY_BASELINE",
        "`check --baseline`, `fleet --baseline`, `run --baseline`",
        "none (`run`: the snapshot is stored, not compared)",
        "The ref to compare against.",
    ),
    Setting(
        "ENVPARITY_BUDGET_S",
        "`run --budget`",
        "`2`",
        "Seconds the start-up check may take before the command starts anyway (the database gets "
        "at most half).",
    ),
    Setting(
        "ENVPARITY_DB_TIMEOUT",
        "",
        "`10`",
        "Seconds to connect, run one statement or wait for one lock (PostgreSQL's connect, lock "
        "and statement timeouts, SQLite's busy timeout).",
    ),
    Setting(
        "ENVPARITY_DEFER",
        "`run` (no option)",
        "`1`",
        "`0` stores the start-up snapshot before the server starts; by default it is spooled and "
        "stored by a detached writer after exec (run the container with an init such as tini, or "
        "the writer stays a zombie until it stops).",
    ),
    Setting(
        "ENVPARITY_DB_URL",
        "`--db` (every command that reads or writes the store)",
        "SQLite in `ENVPARITY_HOME`, else the user data directory",
        "The store: `sqlite:///PATH` or `postgresql+psycopg://USER@HOST/DB` (`postgres://` too). "
        "Any other kind is bad input (exit 2).",
    ),
    Setting(
        "ENVPARITY_FAIL_ON",
        "`--fail-on` (`diff`, `check`, `parity`, `run`)",
        "the policy's `fail_on`, else `error`",
        "The severity at which drift fails (exit 1; `run --on-drift fail`: exit 78).",
    ),
    Setting(
        "ENVPARITY_HOME",
        "",
        "the user data directory (`~/.local/share/envparity` on Linux)",
        "Directory of the default SQLite store (`envparity.db`) and of the hook's spool.",
    ),
    Setting(
        "ENVPARITY_LABELS",
        "`snapshot --label`, `check --label`, `run --label` (labels recorded)",
        "none",
        "`k=v,k2=v2`: labels recorded on the snapshot, merged with `--label` (the command line "
        "wins for a key).",
    ),
    Setting(
        "ENVPARITY_MAX_INPUT_BYTES",
        "",
        "`67108864` (64 MiB)",
        "The largest snapshot JSON or policy file envparity reads.",
    ),
    Setting(
        "ENVPARITY_METRICS_FILE",
        "",
        "none",
        "`envparity run` writes this container's OpenMetrics there at each start.",
    ),
    Setting(
        "ENVPARITY_METRIC_LABELS",
        "`fleet --metric-label`, `recipe grafana --metric-label`",
        "`model`",
        "`model,team`: snapshot labels exported as OpenMetrics labels (by `fleet --format "
        "openmetrics` and the hook's `ENVPARITY_METRICS_FILE`); empty for none.",
    ),
    Setting(
        "ENVPARITY_ON_DRIFT",
        "`run --on-drift`",
        "`warn`",
        "`warn` starts the command whatever the drift; `fail` refuses (exit 78) at fail-on.",
    ),
    Setting(
        "ENVPARITY_POLICY",
        "`--policy` (`diff`, `check`, `parity`, `fleet`, `run`, ...)",
        "`[tool.envparity]` of the nearest `pyproject.toml` upward",
        "A TOML policy file.",
    ),
    Setting(
        "ENVPARITY_MODEL",
        "`--model` (`snapshot`); `envparity.snapshot(model=...)`; the start-up hook",
        "`[tool.envparity] model`",
        "`a.pkl,b.joblib`: model artifacts whose needs decide which differences can reach the "
        "model (read without loading them).",
    ),
    Setting(
        "ENVPARITY_PROBE_MAX_BYTES",
        "",
        "`8388608` (8 MiB)",
        "The largest parity probe output stored whole (beyond it: a digest and 64 samples).",
    ),
    Setting(
        "ENVPARITY_PROBES",
        "`--probes` (`snapshot`, `check`, `bench`, `parity`, `bisect`); `run` (no option)",
        "none",
        "`mod1,mod2`: parity probe modules to import.",
    ),
    Setting(
        "ENVPARITY_REPORT_DIR",
        "the `ci-drift` recipe",
        "`envparity-report`",
        "Where `envparity recipe ci-drift` writes its reports.",
    ),
    Setting(
        "ENVPARITY_ROLE",
        "`snapshot --role`, `check --role`, `run --role` (role recorded)",
        "`snapshot`: none; `check`: `ci`; `run`: `serving`",
        "The role recorded on the snapshot.",
    ),
    Setting(
        "ENVPARITY_SPOOL_DIR",
        "`run --spool-dir`, `db flush --spool-dir`",
        "`$ENVPARITY_HOME/spool`, else the user cache, else `$TMPDIR/envparity-UID`",
        "Where the hook keeps snapshots the store could not take.",
    ),
    Setting(
        "ENVPARITY_SPOOL_MAX",
        "",
        "`1000`",
        "Files a spool directory keeps; past it the oldest are dropped (and counted).",
    ),
    Setting(
        "ENVPARITY",
        "the `ci-drift` recipe",
        "`envparity`",
        "The command the recipe runs, e.g. `python -m envparity`.",
    ),
)
