"""The Typer app, the error boundary and the small output helpers every command shares."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import typer
from typer.core import TyperGroup

from ._out import (  # noqa: F401 - the commands import these from here
    LABELS_ENV,
    RECORDED_LABEL_HELP,
    _verbosity,
    detail,
    error,
    note,
    parse_labels,
    recorded_labels,
    report_error,
    write_atomic,
)


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

F = TypeVar("F", bound=Callable[..., Any])


def boundary(fn: F) -> F:
    """Turn envparity's errors into one line on stderr and the matching exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as e:
            code = report_error(e)
            if code is None:
                raise
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


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
