"""``envparity run`` without Typer: the serving entrypoint parses its own few options.

A container pays for every import at each start, and Typer with Click costs ~20-40 ms that
``envparity run --baseline REF -- CMD`` does not need. Anything this parser does not recognise
(``--help``, an unknown option, a malformed value) is left to the Typer command, which owns the
help text and the error messages; this is only the fast path for a well-formed command line.
"""


import sys
from typing import Dict, List, Optional, Sequence

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
