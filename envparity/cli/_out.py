"""The command line's output helpers and label parsing, without Typer.

Shared by the Typer commands (through :mod:`._app`) and the fast paths of :mod:`._lean`, which
run ``envparity run``, ``snapshot --no-store`` and ``fleet`` without importing Typer. No
``from __future__ import annotations`` in CLI modules (tests/test_cli_annotations.py).
"""

import os
import sys
from typing import Dict, List, Optional

from ..errors import EXIT_BAD_INPUT, BadInput, EnvparityError

# -1 quiet, 0 normal, 1 verbose: set by the root options, read by note() and detail().
_verbosity = {"level": 0}


def error(message: str) -> None:
    """One line on stderr, prefixed so it is found in a log."""
    sys.stderr.write(f"envparity: error: {message}\n")
    sys.stderr.flush()  # Click 8.1's CliRunner does not flush stderr for us


def note(message: str) -> None:
    """An informational line on stderr (where a file went, what was stored); not with --quiet."""
    if _verbosity["level"] >= 0:
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()


def detail(message: str) -> None:
    """A line on stderr only with --verbose."""
    if _verbosity["level"] > 0:
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()


def parse_labels(labels: Optional[List[str]]) -> Dict[str, str]:
    """``["k=v", ...]`` as a dict; a malformed one is a BadInput naming it."""
    from ..labels import check_labels, parse_items

    return check_labels(parse_items(labels or [], "--label"))


LABELS_ENV = "ENVPARITY_LABELS"
RECORDED_LABEL_HELP = (
    "KEY=VALUE, repeatable, e.g. model=fraud; merged with ENVPARITY_LABELS=k=v,k2=v2 "
    "(the command line wins for a key)."
)


def recorded_labels(labels: Optional[List[str]]) -> Dict[str, str]:
    """The labels to record on a snapshot: ``ENVPARITY_LABELS`` merged with ``--label`` (which
    wins for a key), as ``envparity run`` merges them. Filters (``list``/``fleet --label``) do not
    read the variable: a container's own labels would silently narrow every query."""
    from ..labels import parse_labels as parse_text

    merged = parse_text(os.environ.get(LABELS_ENV) or None, LABELS_ENV)
    merged.update(parse_labels(labels))
    from ..labels import check_labels

    return check_labels(merged)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to the user's ``-o`` path; a failure is a BadInput naming it.

    Through ``envparity.writer.write_output``: atomic only for regular files (through a symlink,
    its target), devices and FIFOs written directly, ``-`` is stdout.
    """
    from ..writer import write_output

    if path != "-":
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise BadInput(f"-o {path}: directory {directory} does not exist; create it first")
    try:
        write_output(path, text.encode("utf-8"))
    except IsADirectoryError:
        raise BadInput(f"-o {path}: is a directory; give a file path") from None
    except OSError as e:
        why = e.strerror or e
        raise BadInput(f"-o {path}: cannot write ({why}); choose another path") from None


def report_error(e: BaseException) -> Optional[int]:
    """Print envparity's one-line error for ``e`` and return its exit code; None for anything
    that is not ours to explain (the caller re-raises it)."""
    if isinstance(e, EnvparityError):
        error(str(e))
        detail(f"envparity: ({type(e).__name__}, exit code {e.exit_code})")
        return e.exit_code
    if isinstance(e, KeyboardInterrupt):
        error("interrupted")
        return 130
    # A ValidationError implies pydantic is loaded; importing it just to catch one would cost
    # the commands that never build a model.
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(e, pydantic.ValidationError):
        for problem in e.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
            error(f"{where}: {problem['msg']}")
        return EXIT_BAD_INPUT
    return None
