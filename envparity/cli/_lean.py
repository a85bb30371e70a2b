"""``envparity run`` and ``envparity snapshot --no-store`` without Typer.

A container pays for every import at each start, and Typer with Click costs ~40-70 ms that
``envparity run --baseline REF -- CMD`` does not need; nor does the image build's or CI's
``envparity snapshot --no-store -o FILE``, whose whole capture takes about as long. Anything these
parsers do not recognise (``--help``, an unknown option, a malformed value, an option that needs
the database or measures something) is left to the Typer command, which owns the help text and
the error messages; this is only the fast path for a well-formed command line, and it calls what
the Typer command calls.
"""


import sys
from typing import Dict, List, Optional, Sequence, Tuple

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


# snapshot's options on the fast path: option -> (keyword, takes a value, repeatable).
_SNAPSHOT: Dict[str, Tuple[str, bool, bool]] = {
    "--role": ("role", True, False),
    "--label": ("label", True, True),
    "--output": ("output", True, False),
    "-o": ("output", True, False),
    "--format": ("format", True, False),
    "-f": ("format", True, False),
    "--json": ("json", False, False),
    "--no-store": ("no_store", False, False),
    "--python": ("python", True, False),
    "--model": ("model", True, True),
}


def parse_snapshot(args: Sequence[str]) -> Optional[Dict[str, object]]:
    """``snapshot``'s options when the fast path can take them (``--no-store``, nothing
    measured); None to use Typer instead."""
    options: Dict[str, object] = {}
    rest = list(args)
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name not in _SNAPSHOT:
            return None  # --help, --db, --suite, an argument...: Typer's
        key, takes, repeatable = _SNAPSHOT[name]
        if not takes:
            if eq:
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
    fmt = str(options.get("format", "text")).lower()
    if not options.get("no_store") or fmt not in ("text", "json"):
        return None
    options["format"] = fmt
    return options


def snapshot(args: Sequence[str]) -> Optional[int]:
    """Run ``envparity snapshot ARGS`` without Typer; None when the arguments need Typer."""
    import os

    from ..parity.loading import env_probes

    parsed = parse_snapshot(args)
    if parsed is None or env_probes():
        return None  # ENVPARITY_PROBES: parity probes to record, which Typer's path measures
    from ..errors import EnvparityError
    from ..pipeline import SnapshotRequest
    from ._out import error, recorded_labels
    from ._snapshot_core import model_list, write_data

    given = parsed.get("model")
    labels = parsed.get("label")
    try:
        models = model_list(given if isinstance(given, list) else None)
        request = SnapshotRequest(
            role=str(parsed.get("role", os.environ.get("ENVPARITY_ROLE", ""))),
            labels=recorded_labels(labels if isinstance(labels, list) else None),
            python=str(parsed["python"]) if "python" in parsed else None,
            models=tuple(models),
        )
        if request.measured:
            return None
        output = parsed.get("output")
        write_data(
            request,
            models,
            str(output) if output is not None else None,
            bool(parsed.get("json")) or parsed["format"] == "json",
        )
    except EnvparityError as e:
        error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    return 0
