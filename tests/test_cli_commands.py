"""The console script loads only the module of the command it runs; every command is mapped."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from envparity import cli


def _registered(app) -> set:
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    return names


def test_every_command_is_mapped_to_the_modules_that_register_it():
    app = cli.load()
    assert _registered(app) == set(cli.COMMANDS)
    code = (
        "import json, sys; from envparity import cli; cmd = sys.argv[1];"
        "app = cli.load(cli.COMMANDS[cmd]);"
        "print(json.dumps(sorted({c.name or c.callback.__name__ for c in app.registered_commands}"
        " | {g.name for g in app.registered_groups})))"
    )
    for command in cli.COMMANDS:
        out = subprocess.run(
            [sys.executable, "-c", code, command], capture_output=True, text=True, check=True
        )
        assert command in json.loads(out.stdout), command


def test_snapshot_no_store_imports_neither_sqlalchemy_nor_pydantic(tmp_path):
    code = (
        "import sys, runpy; sys.argv = ['envparity', 'snapshot', '--no-store', '-o', 's.json'];"
        "from envparity.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'pydantic', 'numpy', 'torch')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "s.json").read_text())["schema_version"] == 3


def test_first_snapshot_and_hook_start_without_psycopg(tmp_path):
    # psycopg comes with the `postgres` extra only: a plain install must create, migrate and use
    # the embedded SQLite store on its first snapshot and its first hook start without it.
    code = (
        "import sys; sys.modules['psycopg'] = None\n"  # import psycopg -> ImportError
        "import envparity\n"
        "outcome = envparity.startup_check()\n"
        "sys.argv = ['envparity', 'snapshot', '--role', 'training']\n"
        "from envparity.cli import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["ENVPARITY_HOME"] = str(tmp_path / "home")
    # What is checked is that the store is made without psycopg, not how fast: on a loaded CI
    # machine creating it took more than half the default 2 s budget and the hook spooled.
    env["ENVPARITY_BUDGET_S"] = "600"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "stored in sqlite:///" in out.stdout + out.stderr, out.stderr
    assert '"stored": "store"' in out.stderr, out.stderr  # the hook's first start stored too
