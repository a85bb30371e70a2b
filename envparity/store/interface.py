"""What code that uses a store may rely on: the :class:`Store` protocol and its parts.

``fleet``, the start-up hook and the CLI depend on these, not on the SQLAlchemy class in
:mod:`envparity.store.store` that implements them, so a fake store in a test (or another backend)
needs only these methods.

Three implementations write and read the same rows (``tests/store/test_store_contract.py`` holds
them to one contract on SQLite and PostgreSQL):

- :class:`~envparity.store.store.Store` (SQLAlchemy, either dialect): the whole :class:`Store`.
- :class:`~envparity.store.fast.LeanSqlite` (stdlib ``sqlite3``) and
  :class:`~envparity.store.fast_pg.LeanPostgres` (psycopg): a :class:`SnapshotWriter` and a
  :class:`SnapshotReader` alone, for the paths that must not import SQLAlchemy (``envparity
  snapshot``, the start-up hook, its spool writer).

A lean path does only what it can do alone and raises :class:`Declined` for the rest, never
guessing; the caller then goes through :func:`envparity.store.open_store`, which migrates or
explains. It declines:

- a store that is not its kind (a PostgreSQL URL given to the sqlite3 path, and the other way
  round), a SQLite URL with query parameters, or no psycopg installed;
- no store yet, or a schema it does not write as it is: the sqlite3 path takes this envparity's
  schema or one it still serves (a writer made with ``migrate=True`` first creates or migrates a
  SQLite file, under its lock, through the full store), psycopg only this envparity's head;
- as a reader, any ref but a full snapshot id or a tag (an id prefix, ``latest``,
  ``latest:role=...``, ``fp:...``), and a ref that names nothing, which the full resolver
  explains with its candidates; the sqlite3 reader also declines a file it cannot read (locked,
  damaged), which the full store then names.

A store that is there but fails (read-only, full, locked for longer than the timeout, a server
that does not answer) is a :class:`~envparity.errors.StoreError` on every other path. ``get`` of
an id that a lean reader can see is not stored is a :class:`~envparity.errors.BadInput`, as on
the full store; a snapshot whose fingerprint does not match its content is a BadInput on save.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Protocol

if TYPE_CHECKING:
    from ..model import Snapshot
    from .views import EnvironmentGroup, SchemaInfo, SightingSummary, TagEvent


class Declined(Exception):
    """A lean store path cannot do this alone (see the module doc): use the full store.

    Not an :class:`~envparity.errors.EnvparityError`: it never reaches a user, the caller
    always has the full store to fall back on.
    """


class SnapshotWriter(Protocol):
    """Saves snapshots: idempotent by snapshot id, one environment row per fingerprint, the
    rows :meth:`Store.save` writes. A lean writer may raise :class:`Declined` (module doc)."""

    @property
    def url_redacted(self) -> str: ...

    def save(self, snapshot: Snapshot) -> bool:
        """True when ``snapshot`` is newly stored, False when its snapshot_id already was.
        A snapshot whose fingerprint does not match its content is a BadInput."""
        ...


class SnapshotReader(Protocol):
    """Reads snapshots back, equal to what was saved. A lean reader may raise
    :class:`Declined` (module doc)."""

    @property
    def url_redacted(self) -> str: ...

    def get(self, snapshot_id: str) -> Snapshot:
        """The snapshot with exactly this id; BadInput when there is none."""
        ...

    def resolve(self, ref: str) -> Snapshot:
        """The snapshot ``ref`` names (a full id or a tag on every path; the full store also
        takes prefixes, ``latest[:...]`` and ``fp:``); BadInput when it names nothing."""
        ...


class Store(SnapshotWriter, SnapshotReader, Protocol):
    """Snapshots kept somewhere: save, resolve, list, tag, group. Every failure of the
    database itself is a :class:`~envparity.errors.StoreError`; a ref that names nothing a
    :class:`~envparity.errors.BadInput`. Never :class:`Declined`."""

    @property
    def url_redacted(self) -> str: ...

    @property
    def dialect(self) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...

    def save(self, snapshot: Snapshot) -> bool: ...

    def tag(self, ref: str, name: str) -> Snapshot: ...

    def get(self, snapshot_id: str) -> Snapshot: ...

    def resolve(self, ref: str) -> Snapshot: ...

    def list_snapshots(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
        limit: int = 50,
    ) -> List[SightingSummary]: ...

    def tag_history(self, name: str) -> List[TagEvent]: ...

    def environment_groups(
        self,
        *,
        role: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[EnvironmentGroup]: ...

    def roles(
        self,
        *,
        labels: Optional[Mapping[str, str]] = None,
        since: Optional[datetime] = None,
    ) -> List[str]: ...

    def get_environment(self, fingerprint: str) -> Snapshot: ...

    def schema_versions(self, fingerprints: List[str]) -> Dict[str, int]: ...

    def identities(self, fingerprints: List[str]) -> Dict[str, Dict[str, Any]]: ...

    def sighting_parts(self, snapshot_ids: List[str]) -> Dict[str, Dict[str, Any]]: ...

    def schema_info(self) -> SchemaInfo: ...
