"""The reference pages under docs/reference/ are generated from the code and committed; this
fails when one is stale (regenerate: python scripts/gen_docs_reference.py), and when the code
reads an ENVPARITY_* variable that the table they are generated from does not list."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from _support import REPO

from envparity.settings import SETTINGS


def test_reference_pages_are_fresh(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_docs_reference.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    generated = sorted(p.name for p in tmp_path.glob("*.md"))
    assert generated == ["cli.md", "environment.md", "exit-codes.md", "schemas.md"]
    for name in generated:
        committed = REPO / "docs" / "reference" / name
        assert committed.exists(), f"docs/reference/{name} is missing"
        assert committed.read_text(encoding="utf-8") == (tmp_path / name).read_text(
            encoding="utf-8"
        ), f"docs/reference/{name} is stale: run `python scripts/gen_docs_reference.py`"


def test_every_envparity_variable_the_code_reads_is_in_the_table() -> None:
    sources = [*REPO.glob("envparity/**/*.py"), REPO / "scripts" / "ci-drift.sh"]
    read = set()
    for path in sources:
        read |= set(re.findall(r"\bENVPARITY(?:_[A-Z][A-Z0-9_]*)?\b", path.read_text("utf-8")))
    read.discard("ENVPARITY")  # the prefix itself, in messages and in the shell recipe's name
    listed = {s.name for s in SETTINGS} - {"ENVPARITY"}
    assert read - listed == set(), f"add these to envparity/settings.py: {sorted(read - listed)}"
    assert listed - read == set(), f"no code reads these any more: {sorted(listed - read)}"


def test_cli_reference_names_every_command() -> None:
    from envparity.cli import COMMANDS

    page = (REPO / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"## `envparity {command}" in page, command


def test_readme_links_resolve() -> None:
    # MkDocs --strict checks the links between docs pages; the README is outside the site.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?:)[^)#\s]+)(?:#[^)]*)?\)", readme)
    assert links, "the README links to its docs pages"
    for link in links:
        assert (REPO / link).exists(), f"README.md links to {link}, which does not exist"
