"""What the two lean paths (stdlib sqlite3 in :mod:`.fast`, psycopg in :mod:`.fast_pg`) share:
their :class:`~envparity.store.interface.SnapshotWriter` and
:class:`~envparity.store.interface.SnapshotReader` face. Each path supplies how it saves rows and
finds a ref; this class raises :class:`~envparity.store.interface.Declined` where those return
None (see :mod:`.interface`) and words a missing snapshot as the full store does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from ..errors import BadInput
from .interface import Declined
from .url import resolve_url, shown

if TYPE_CHECKING:
    from ..model import Snapshot

Found = Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]


class LeanStore:
    """Subclasses set ``kind`` (the store it can use alone, for the decline message) and
    implement :meth:`_save_rows` and :meth:`_find` over their module's functions."""

    kind = ""

    def __init__(self, url: Optional[str] = None, *, timeout_s: Optional[float] = None) -> None:
        self.url, self.timeout_s = resolve_url(url), timeout_s

    @property
    def url_redacted(self) -> str:
        return shown(self.url)

    def _save_rows(self, r: Any) -> Optional[Tuple[bool, str]]:
        raise NotImplementedError

    def _find(self, ref: str, tags: bool) -> Optional[Found]:
        raise NotImplementedError

    def save(self, snapshot: Any) -> bool:
        """:meth:`Store.save` for a Snapshot or its plain JSON data (the start-up path's)."""
        from .rows import rows_of

        return self.save_rows(rows_of(snapshot))

    def save_rows(self, r: Any) -> bool:
        done = self._save_rows(r)
        if done is None:
            raise Declined(f"store {self.url_redacted}: not a {self.kind} store at this schema")
        return done[0]

    def get(self, snapshot_id: str) -> Snapshot:
        from .rows import snapshot_from

        found = self._find(snapshot_id, tags=False)
        if found is None:
            raise BadInput(
                f"snapshot {snapshot_id}: not in the store {self.url_redacted}; "
                "`envparity list` shows what is there"
            )
        return snapshot_from(*found)

    def resolve(self, ref: str) -> Snapshot:
        from .rows import snapshot_from

        return snapshot_from(*self.resolve_data(ref))

    def resolve_data(self, ref: str) -> Found:
        """:meth:`resolve` as plain data (the module's ``resolve_data``)."""
        found = self._find(ref, tags=True)
        if found is None:
            raise Declined(f"ref {ref!r}: no snapshot id or tag in {self.url_redacted}")
        return found
