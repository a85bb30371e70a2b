"""The Typer app, the error boundary and the small output helpers every command shares."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, Dict, List, Optional, TypeVar

import typer
from typer.core import TyperGroup

from ..errors import EXIT_BAD_INPUT, BadInput, EnvparityError


def _click_module() -> Any:
    try:
        from typer import _click as click  # Typer 0.28+ vendors its own Click
    except ImportError:  # pragma: no cover - older Typer uses Click itself
        import click  # type: ignore[no-redef]
    return click


class _Group(TyperGroup):
    """The root group: a bad option value or a missing argument is one line on stderr and exit
    2, like every other bad input (Click would print a usage block and a framed panel)."""

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
        standalone_mode: bool = True, **kwargs: Any
    ) -> Any:
        if not standalone_mode:
            _share_verbosity(self)
            return super().main(args, prog_name, complete_var, False, **kwargs)
        click = _click_module()
        _share_verbosity(self)
        try:
            result = super().main(args, prog_name, complete_var, False, **kwargs)
        except click.exceptions.ClickException as e:
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
            else:
                where = e.ctx.command_path if getattr(e, "ctx", None) is not None else "envparity"
                error(f"{' '.join(e.format_message().split())} (see `{where} --help`)")
            sys.exit(e.exit_code)
        except typer.Abort:
            error("aborted")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


_QUIET_HELP = "Print only the result and errors, no progress notes."
_VERBOSE_HELP = "Print more detail: what was left out, and why."


def _verbosity_flag(level: int) -> Callable[[Any, Any, bool], bool]:
    def set_level(ctx: Any, param: Any, value: bool) -> bool:
        if value:
            if _verbosity["level"] not in (0, level):
                raise typer.BadParameter("give --quiet or --verbose, not both")
            _verbosity["level"] = level
        return value

    return set_level


def _share_verbosity(group: Any) -> None:
    """Give every command ``--quiet/-q`` and ``--verbose/-v`` too, so they work after the command
    name (``envparity snapshot -q``) as well as before it, as in pip and ruff."""
    from typer.core import TyperOption

    for command in group.commands.values():
        if hasattr(command, "commands"):
            _share_verbosity(command)
            continue
        have = {name for param in command.params for name in getattr(param, "opts", [])}
        for flags, level, text in (
            (["--quiet", "-q"], -1, _QUIET_HELP),
            (["--verbose", "-v"], 1, _VERBOSE_HELP),
        ):
            if not have.intersection(flags):
                command.params.append(
                    TyperOption(
                        param_decls=flags,
                        is_flag=True,
                        default=False,
                        expose_value=False,
                        callback=_verbosity_flag(level),
                        help=text,
                    )
                )


app = typer.Typer(
    name="envparity",
    cls=_Group,
    help="Fingerprint the environment a model runs in, store it, and explain the drift.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

# -1 quiet, 0 normal, 1 verbose: set by the root options, read by note() and detail().
_verbosity = {"level": 0}

F = TypeVar("F", bound=Callable[..., Any])


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


def boundary(fn: F) -> F:
    """Turn envparity's errors into one line on stderr and the matching exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EnvparityError as e:
            error(str(e))
            detail(f"envparity: ({type(e).__name__}, exit code {e.exit_code})")
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


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        sys.stdout.write(f"envparity {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=_QUIET_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_VERBOSE_HELP),
) -> None:
    """Fingerprint the environment a model runs in, store it, and explain the drift."""
    if quiet and verbose:
        raise typer.BadParameter("give --quiet or --verbose, not both")
    _verbosity["level"] = -1 if quiet else (1 if verbose else 0)
