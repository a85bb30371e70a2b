"""Labels are parsed once: every door (CLI, environment, library, refs) strips keys and values the
same way, so a label stored through one door is found through another."""

from __future__ import annotations

import json
from pathlib import Path

from _support import isolated_env, run_cli

from envparity.labels import check_labels
from envparity.labels import parse_labels as hook_labels
from envparity.store.store import parse_latest


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_label_with_spaces_resolves_from_a_ref_written_either_way(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, tmp_path / "home", ENVPARITY_DB_URL=f"sqlite:///{tmp_path}/e.db")
    _ok(run_cli("snapshot", "--role", "training", "--label", "model= fraud ", env=env))
    for ref in ("latest:model= fraud ", "latest:model=fraud", "latest:role=training,model=fraud"):
        shown = json.loads(_ok(run_cli("show", ref, "--format", "json", env=env)))
        assert shown["labels"] == {"model": "fraud"}, ref


def test_every_door_parses_the_same_text_to_the_same_labels() -> None:
    text = " model = fraud , team=risk "
    from_env = hook_labels(text, "ENVPARITY_LABELS")
    from_ref = parse_latest("latest:" + text)[1]
    from_library = check_labels({" model ": " fraud ", "team": "risk "})
    assert from_env == from_ref == from_library == {"model": "fraud", "team": "risk"}
