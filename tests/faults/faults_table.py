"""The rows of the fault matrix's table: each case appends what it observed (conftest writes it)."""

from __future__ import annotations

from typing import Dict, List

ROWS: List[Dict[str, object]] = []
