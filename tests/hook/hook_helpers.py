"""Helpers the hook tests share (plain functions; the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import sys
from typing import Dict, List

# Nothing accepts connections on port 1: connecting fails at once, like a database that is down.
CLOSED_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:1/x"


def envparity_cmd(*args: str) -> List[str]:
    """The command line of a real ``envparity`` child process."""
    return [sys.executable, "-m", "envparity", *args]


def log_record(stderr: str) -> Dict[str, object]:
    """The hook's one JSON log line in ``stderr``."""
    records = [
        json.loads(line)
        for line in stderr.splitlines()
        if line.startswith("{") and '"envparity.startup"' in line
    ]
    assert len(records) == 1, stderr
    return records[0]
