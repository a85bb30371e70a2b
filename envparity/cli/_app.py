"""The Typer app, the error boundary and the small output helpers every command shares."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, Dict, List, Optional, TypeVar

import typer

from ..errors import EXIT_BAD_INPUT, BadInput, EnvparityError

app = typer.Typer(
    name="envparity",
    help="Fingerprint the environment a model runs in, store it, and explain the drift.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def error(message: str) -> None:
    """One line on stderr, prefixed so it is found in a log."""
    sys.stderr.write(f"envparity: error: {message}\n")
    sys.stderr.flush()  # Click 8.1's CliRunner does not flush stderr for us


def boundary(fn: F) -> F:
    """Turn envparity's errors into one line on stderr and the matching exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EnvparityError as e:
            error(str(e))
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:
            # A ValidationError implies pydantic is loaded; importing it just to catch one would
            # cost the commands that never build a model.
            pydantic = sys.modules.get("pydantic")
            if pydantic is None or not isinstance(e, pydantic.ValidationError):
                raise
            for problem in e.errors():
                where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
                error(f"{where}: {problem['msg']}")
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper  # type: ignore[return-value]


def parse_labels(labels: Optional[List[str]]) -> Dict[str, str]:
    """``["k=v", ...]`` as a dict; a malformed one is a BadInput naming it."""
    parsed: Dict[str, str] = {}
    for item in labels or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--label {item!r}: expected KEY=VALUE, e.g. --label model=fraud")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:  # argv bytes that were not UTF-8 (lone surrogates)
            shown = item.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            raise BadInput(f"--label {shown!r}: not valid UTF-8 text; give it in UTF-8") from None
        parsed[key.strip()] = value
    from ..labels import check_labels

    return check_labels(parsed)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to the user's ``-o`` path; a failure is a BadInput naming it.

    Through ``envparity.atomic.write_output``: atomic only for regular files (through a symlink,
    its target), devices and FIFOs written directly, ``-`` is stdout.
    """
    from ..atomic import write_output

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


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"envparity {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Fingerprint the environment a model runs in, store it, and explain the drift."""
