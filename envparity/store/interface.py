"""What code that uses a store may rely on: the :class:`Store` protocol.

``fleet``, the start-up hook and the CLI depend on this, not on the SQLAlchemy class in
:mod:`envparity.store.store` that implements it, so a fake store in a test (or another backend)
needs only these methods.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Protocol

if TYPE_CHECKING:
    from ..model import Snapshot
    from .views import EnvironmentGroup, SchemaInfo, SightingSummary, TagEvent


class Store(Protocol):
    """Snapshots kept somewhere: save, resolve, list, tag, group. Every failure of the
    database itself is a :class:`~envparity.errors.StoreError`; a ref that names nothing a
    :class:`~envparity.errors.BadInput`."""

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
