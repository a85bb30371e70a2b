"""The SQL store: content-addressed snapshots in SQLite (the default) or PostgreSQL.

``open_store()`` returns a :class:`Store`; see store.py for its API and docs/design.md "Storage".
:func:`save` is the one "fast path or full store" rule. The
names are loaded on first use so that naming the store (``envparity.store.url``) costs no
SQLAlchemy import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

__all__ = [
    "save",
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
    from ..model import Snapshot
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


def save(
    snapshot: Snapshot,
    url: Optional[str] = None,
    *,
    migrate: bool = True,
    timeout_s: Optional[float] = None,
) -> Tuple[bool, str]:
    """Store ``snapshot`` the cheapest way there is: (newly stored?, redacted URL).

    The one "fast path or full store" rule: an existing store at this schema takes it through
    stdlib sqlite3 or psycopg alone (no SQLAlchemy import); anything else goes through
    :func:`open_store`, which creates and migrates a new store when ``migrate`` (else raises
    SchemaOutOfDate).
    """
    from .fast import save_anywhere

    done = save_anywhere(snapshot, url, timeout_s=timeout_s, migrate=migrate)
    if done is not None:
        return done
    from .store import open_store

    with open_store(url, migrate=migrate, timeout_s=timeout_s) as opened:
        return opened.save(snapshot), opened.url_redacted


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "save":
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'envparity.store' has no attribute {name!r}")
