"""``envparity run``, ``snapshot --no-store`` and ``fleet`` without Typer.

A container pays for every import at each start, and Typer with Click costs ~40-70 ms that
``envparity run --baseline REF -- CMD`` does not need; nor does the image build's or CI's
``envparity snapshot --no-store -o FILE``, whose whole capture takes about as long, nor a
dashboard's or a scraper's ``envparity fleet``. Anything these parsers do not recognise
(``--help``, an unknown option, a malformed value, an option that needs the database or measures
something) is left to the Typer command, which owns the help text and the error messages; this
is only the fast path for a well-formed command line, and it calls what the Typer command calls.
"""


import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# option -> the keyword of envparity.hook.run (the same options as envparity.cli.run.run).
_OPTIONS = {
    "--baseline": "baseline",
    "--on-drift": "on_drift",
    "--role": "role",
    "--label": "labels",
    "--db": "db_url",
    "--budget": "budget_s",
    "--fail-on": "fail_on",
    "--spool-dir": "spool_dir",
    "--policy": "policy",
}


def parse(args: Sequence[str]) -> Optional[Dict[str, object]]:
    """The hook's keywords and ``command`` for ``run``'s arguments; None to use Typer instead."""
    options: Dict[str, object] = {}
    labels: List[str] = []
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word == "--":
            break
        if not word.startswith("-"):
            rest.insert(0, word)  # the command starts here (no interspersed options)
            break
        name, eq, value = word.partition("=")
        if name not in _OPTIONS:
            return None  # --help, or something only Typer can explain
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if name == "--label":
            labels.append(value)
        elif _OPTIONS[name] in options:
            return None  # given twice: Typer decides which wins
        else:
            options[_OPTIONS[name]] = value
    if not rest:
        return None  # no command: Typer's message says how to give one
    if labels:
        options["labels"] = labels
    options["command"] = rest
    return options


def run(args: Sequence[str]) -> Optional[int]:
    """Run ``envparity run ARGS`` without Typer; None when the arguments need Typer."""
    parsed = parse(args)
    if parsed is None:
        return None
    from ..errors import DriftRefused, EnvparityError
    from ..hook import run as run_hook

    command = parsed.pop("command")
    try:
        run_hook(command, **parsed)  # type: ignore[arg-type]
    except DriftRefused as e:
        # The hook's summary line already says why; a second line would only repeat it.
        return e.exit_code
    except EnvparityError as e:
        sys.stderr.write(f"envparity: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("envparity: error: interrupted\n")
        return 130
    return 0  # not reached: run_hook execs


# Options on the fast paths: option -> (keyword, takes a value, repeatable). These mean the
# same in every command that has them.
_COMMON: Dict[str, Tuple[str, bool, bool]] = {
    "--role": ("role", True, False),
    "--label": ("label", True, True),
    "--output": ("output", True, False),
    "-o": ("output", True, False),
    "--format": ("format", True, False),
    "-f": ("format", True, False),
    "--json": ("json", False, False),
}
_SNAPSHOT: Dict[str, Tuple[str, bool, bool]] = {
    **_COMMON,
    "--no-store": ("no_store", False, False),
    "--python": ("python", True, False),
    "--model": ("model", True, True),
}


def _options(
    args: Sequence[str], table: Dict[str, Tuple[str, bool, bool]]
) -> Optional[Dict[str, object]]:
    """``args`` as keywords by ``table`` (option -> (keyword, takes a value, repeatable)); None
    for anything else (``--help``, an unknown option, an argument, a flag given a value, an option
    given twice or without its value): Typer's to explain."""
    options: Dict[str, object] = {}
    rest = list(args)
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name not in table:
            return None
        key, takes, repeatable = table[name]
        if not takes:
            if eq or key in options:
                return None
            options[key] = True
            continue
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if repeatable:
            listed = options.setdefault(key, [])
            assert isinstance(listed, list)
            listed.append(value)
        elif key in options:
            return None  # given twice: Typer decides which wins
        else:
            options[key] = value
    return options


def _listed(options: Dict[str, object], key: str) -> Optional[List[str]]:
    value = options.get(key)
    return [str(v) for v in value] if isinstance(value, list) else None


def _text(options: Dict[str, object], key: str, envvar: str = "") -> Optional[str]:
    """An option's value, else its environment variable's (unset or empty: None, as Click)."""
    if key in options:
        return str(options[key])
    import os

    return (os.environ.get(envvar) or None) if envvar else None


def parse_snapshot(args: Sequence[str]) -> Optional[Dict[str, object]]:
    """``snapshot``'s options when the fast path can take them (``--no-store``, nothing
    measured); None to use Typer instead."""
    options = _options(args, _SNAPSHOT)
    if options is None:
        return None
    fmt = str(options.get("format", "text")).lower()
    if not options.get("no_store") or fmt not in ("text", "json"):
        return None
    options["format"] = fmt
    return options


def snapshot(args: Sequence[str]) -> Optional[int]:
    """Run ``envparity snapshot ARGS`` without Typer; None when the arguments need Typer."""
    from ..parity.loading import env_probes

    parsed = parse_snapshot(args)
    if parsed is None or env_probes():
        return None  # ENVPARITY_PROBES: parity probes to record, which Typer's path measures
    from ._snapshot_core import model_list, snapshot_request, write_data

    def call() -> None:
        # Nothing measured on this path (no suite, numerics, callables or probe modules): the
        # request is the Typer command's for these options, and write_data its --no-store branch.
        models = model_list(_listed(parsed, "model"))
        request = snapshot_request(
            role=_text(parsed, "role", "ENVPARITY_ROLE") or "",
            labels=_listed(parsed, "label"),
            python=_text(parsed, "python"),
            models=models,
        )
        json_ = bool(parsed.get("json")) or parsed["format"] == "json"
        write_data(request, models, _text(parsed, "output"), json_)

    return _guarded(call)


# fleet's options: all of them (the Typer command's names, values and environment variables).
_FLEET: Dict[str, Tuple[str, bool, bool]] = {
    **_COMMON,
    "--baseline": ("baseline", True, False),
    "--since": ("since", True, False),
    "--metric-label": ("metric_label", True, True),
    "--policy": ("policy", True, False),
    "--db": ("db", True, False),
}


def _guarded(call: Callable[[], None]) -> int:
    """Run ``call`` behind the Typer commands' error boundary: 0, or the error's exit code."""
    from ._out import report_error

    try:
        call()
    except (Exception, KeyboardInterrupt) as e:
        code = report_error(e)
        if code is None:
            raise
        return code
    return 0


def fleet(args: Sequence[str]) -> Optional[int]:
    """Run ``envparity fleet ARGS`` without Typer; None when the arguments need Typer."""
    parsed = _options(args, _FLEET)
    if parsed is None:
        return None
    from ..fleet import FORMATS

    fmt = "json" if parsed.get("json") else str(parsed.get("format", "text")).lower()
    if fmt not in FORMATS:
        return None  # Typer's message lists the formats
    from ._fleet_core import fleet_command

    return _guarded(
        lambda: fleet_command(
            baseline=_text(parsed, "baseline", "ENVPARITY_BASELINE"),
            role=_text(parsed, "role"),
            labels=_listed(parsed, "label"),
            since=_text(parsed, "since"),
            fmt=fmt,
            output=_text(parsed, "output"),
            metric_labels=_listed(parsed, "metric_label"),
            policy=_text(parsed, "policy", "ENVPARITY_POLICY"),
            db=_text(parsed, "db", "ENVPARITY_DB_URL"),
        )
    )
