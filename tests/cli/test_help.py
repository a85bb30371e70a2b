"""Every command's ``--help``: each command and each option says what it is for, and no option
shows a bare type placeholder such as ``<str>``."""

from __future__ import annotations

import re
from typing import Any, Iterator, List, Tuple

import pytest
import typer
from typer.testing import CliRunner

from envparity.cli import app as cli_app


def _walk(group: Any, path: List[str]) -> Iterator[Tuple[List[str], Any]]:
    # Duck-typed: Typer 0.28 vendors its own copy of Click, so click.Group is not its base.
    yield path, group
    if hasattr(group, "commands"):
        for name, command in sorted(group.commands.items()):
            yield from _walk(command, [*path, name])


COMMANDS = list(_walk(typer.main.get_command(cli_app), []))


def test_every_command_is_walked():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {
        "diff", "check", "export", "fleet", "run", "db prune", "snapshot", "list", "parity"
    } <= names


@pytest.mark.parametrize(
    "path,command", COMMANDS, ids=[" ".join(p) or "envparity" for p, _ in COMMANDS]
)
def test_help_has_no_placeholder_and_no_missing_text(path, command):
    result = CliRunner().invoke(cli_app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<str>" not in text and "<int>" not in text and "<float>" not in text, text
    assert (command.help or command.short_help or "").strip(), f"{path}: no help text"
    for param in command.params:
        # Help is rendered by Rich: "[tool.envparity]" in a help text would vanish as markup.
        assert not re.search(r"\[[a-z/.]", getattr(param, "help", None) or ""), (
            f"{' '.join(path)} {param.name}: help text with [markup]: {param.help}"
        )
        if param.param_type_name == "option" and not param.hidden:
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts}: no help text"
        if param.param_type_name == "argument":
            assert (getattr(param, "help", None) or "").strip(), (
                f"{' '.join(path)} {param.name}: argument without help"
            )
