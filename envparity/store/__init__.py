"""The SQL store: content-addressed snapshots in SQLite (the default) or PostgreSQL.

``open_store()`` returns a :class:`Store`; see store.py for its API and DESIGN.md "Storage". The
names are loaded on first use so that naming the store (``envparity.store.url``) costs no
SQLAlchemy import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "EnvironmentGroup",
    "SchemaInfo",
    "SightingSummary",
    "Store",
    "TagEvent",
    "connect",
    "open_reader",
    "open_store",
    "open_writer",
    "parse_latest",
]

if TYPE_CHECKING:
    from .store import (
        EnvironmentGroup,
        SchemaInfo,
        SightingSummary,
        Store,
        TagEvent,
        connect,
        open_reader,
        open_store,
        open_writer,
        parse_latest,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'envparity.store' has no attribute {name!r}")
