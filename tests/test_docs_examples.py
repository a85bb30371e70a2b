"""Every example in README.md and docs/ runs.

Each fenced ```bash, ```sh, ```console and ```python block is run, page by page: the blocks of one
page share one temporary directory and one SQLite store (``ENVPARITY_DB_URL``), in the order they
appear, as a reader following the page would. ```console blocks run the lines that start with
``$ ``. The installed ``envparity`` (this interpreter's) comes first on PATH. An HTML comment on
the line just before a block changes what happens to it:

- ``<!-- not-runnable: REASON -->`` skips it; REASON is one of REASONS, nothing else;
- ``<!-- file: PATH -->`` writes the block to PATH in the page's directory instead of running it
  (a probe module, a pyproject.toml), so later blocks use it;
- ``<!-- exit: N -->`` expects the block to exit N (a drift gate that fails on purpose);
- ``<!-- postgres -->`` runs it with ``ENVPARITY_DB_URL`` set to a fresh PostgreSQL database
  (``ENVPARITY_TEST_PG_URL``), and skips the page's PostgreSQL blocks without it;
- ``<!-- run-by: .ci/run -->`` (the README's test command) is checked to be in ``.ci/run``
  verbatim instead: CI runs it there.
- ``<!-- checkout -->`` runs it in a copy of this checkout (the README's install command).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from _support import REPO

REASONS = (
    "needs a GPU",
    "needs a network beyond the package index",
    "needs a server other than PostgreSQL",
    "destructive",
)
RUNNABLE = ("bash", "sh", "console", "python")
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*(?P<kind>[a-z-]+)(?::\s*(?P<arg>.*?))?\s*-->\s*$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marks: Dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> List[Block]:
    """The fenced blocks of ``page`` with the marks on the lines just before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: List[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, lang, start = len(fence.group("indent")), fence.group("lang"), i
        body: List[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        marks: Dict[str, str] = {}
        j = start - 1
        while j >= 0 and _MARK.match(lines[j]):
            mark = _MARK.match(lines[j])
            assert mark is not None
            marks[mark.group("kind")] = mark.group("arg") or ""
            j -= 1
        found.append(Block(page, start + 1, lang, "\n".join(body) + "\n", marks))
        i += 1
    return found


def pages() -> List[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _env(work: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVPARITY_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        ENVPARITY_HOME=str(work / ".envparity-home"),
        ENVPARITY_DB_URL=f"sqlite:///{work / '.envparity-home' / 'envparity.db'}",
        PYTHONDONTWRITEBYTECODE="1",
        NO_COLOR="1",
        COLUMNS="100",
    )
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS", "CI"):
        env.pop(name, None)
    return env


def _command(block: Block) -> List[str]:
    if block.lang == "python":
        return [sys.executable, "-c", block.text]
    text = block.text
    if block.lang == "console":
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ ")) + "\n"
    return ["bash", "-c", "set -eo pipefail\n" + text]


def _fresh_pg(base: str) -> str:
    """A new empty database on the server of ``base``; its URL."""
    import psycopg

    name = f"docs_example_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def _drop_pg(base: str, url: str) -> None:
    import psycopg

    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _checkout(target: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "site", "build", "dist", "__pycache__", "*.egg-info", ".mypy_cache",
        ".ruff_cache", ".pytest_cache",
    )
    shutil.copytree(REPO, target, ignore=ignore)
    return target


def run_block(block: Block, work: Path, env: Dict[str, str]) -> None:
    """Run one block in ``work``; fail with its place, its text and its output."""
    if "file" in block.marks:
        path = work / block.marks["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text, encoding="utf-8")
        return
    cwd = work
    if "checkout" in block.marks:
        cwd = _checkout(work / f"checkout-{block.line}")
    pg_base = os.environ.get("ENVPARITY_TEST_PG_URL")
    pg_url: Optional[str] = None
    if "postgres" in block.marks:
        assert pg_base, "checked by the caller"
        pg_url = _fresh_pg(pg_base)
        env = {**env, "ENVPARITY_DB_URL": pg_url}
    try:
        done = subprocess.run(
            _command(block), cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        if pg_url and pg_base:
            _drop_pg(pg_base, pg_url)
    expected = int(block.marks.get("exit", "0"))
    assert done.returncode == expected, (
        f"{block.where}: exit {done.returncode}, expected {expected}\n--- block\n{block.text}"
        f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )


def _check_marks(block: Block) -> Optional[str]:
    """Why the block is not run here (None: run it); fails on a mark this test does not know."""
    known = {"not-runnable", "file", "exit", "postgres", "run-by", "checkout"}
    unknown = set(block.marks) - known
    assert not unknown, f"{block.where}: unknown mark(s) {sorted(unknown)}"
    if "not-runnable" in block.marks:
        reason = block.marks["not-runnable"]
        assert reason in REASONS, f"{block.where}: not-runnable {reason!r}: use one of {REASONS}"
        return reason
    if "run-by" in block.marks:
        assert block.marks["run-by"] == ".ci/run", block.where
        ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
        for line in block.text.strip().splitlines():
            assert line in ci.splitlines(), f"{block.where}: {line!r} is not in .ci/run verbatim"
        return "run by .ci/run"
    return None


@pytest.mark.slow  # the README's install builds a venv; the benchmark pages run the suite
@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_on_the_page_runs(page: Path, tmp_path: Path) -> None:
    found = [b for b in blocks(page) if b.lang in RUNNABLE or "file" in b.marks]
    to_run = [b for b in found if _check_marks(b) is None]
    if not to_run:
        pytest.skip(f"{page.relative_to(REPO)}: no runnable example")
    needs_pg = [b for b in to_run if "postgres" in b.marks]
    if needs_pg and not os.environ.get("ENVPARITY_TEST_PG_URL"):
        if len(needs_pg) == len(to_run):
            pytest.skip("its examples need PostgreSQL: set ENVPARITY_TEST_PG_URL")
        to_run = [b for b in to_run if "postgres" not in b.marks]
    work = tmp_path / "work"
    (work / ".envparity-home").mkdir(parents=True)
    env = _env(work)
    for block in to_run:
        run_block(block, work, env)


def test_marks_are_well_formed_and_every_block_has_a_language() -> None:
    for page in pages():
        for block in blocks(page):
            assert block.lang, f"{block.where}: a fenced block without a language"
            if block.lang in RUNNABLE:
                _check_marks(block)
