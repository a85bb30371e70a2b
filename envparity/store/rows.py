"""A snapshot as the rows the store writes, and back. Stdlib and pydantic only.

Shared by :meth:`Store.save` (SQLAlchemy, either dialect) and :mod:`envparity.store.fast` (the
stdlib-sqlite3 path ``envparity snapshot`` takes into an existing SQLite store), so both write
the same rows. The keys of each row are the table's column names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..errors import BadInput
from ..identity import INSTANCE_FIELDS, fingerprint_data

if TYPE_CHECKING:
    from ..model import Snapshot

# Top-level fields that have a sightings column of their own (the rest of the instance-only
# values go to its ``instance`` column).
_SIGHTING_FIELDS = ("snapshot_id", "fingerprint", "captured_at", "role", "labels")
JSON_FIELDS = ("collection", "numerics", "benchmarks")


def dumps(value: Any) -> str:
    """How the store writes JSON columns (compact; SQLAlchemy is given the same function)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def split(value: Any, path: str = "") -> Tuple[Any, Any]:
    """(identity, instance) parts of snapshot JSON data; the paths are envparity.identity's."""
    if isinstance(value, dict):
        drop = INSTANCE_FIELDS.get(path, frozenset())
        ident: Dict[str, Any] = {}
        inst: Dict[str, Any] = {}
        for key, item in value.items():
            if key in drop:
                inst[key] = item
                continue
            ident[key], part = split(item, f"{path}.{key}" if path else key)
            if part:
                inst[key] = part
        return ident, inst
    if isinstance(value, list):
        pairs = [split(item, path + "[]") for item in value]
        parts = [p[1] for p in pairs]
        if not any(parts):
            return [p[0] for p in pairs], None
        # Hundreds of packages usually share one location: keep one copy, not hundreds.
        same = all(p == parts[0] for p in parts)
        return [p[0] for p in pairs], ({"*": parts[0]} if same else parts)
    return value, None


def merge(ident: Any, inst: Any) -> Any:
    """Inverse of :func:`split`."""
    if isinstance(ident, list):
        if isinstance(inst, dict):  # {"*": part}: the same part for every item
            return [merge(item, inst["*"]) for item in ident]
        return [merge(a, b) for a, b in zip(ident, inst)]
    if isinstance(ident, dict) and isinstance(inst, dict):
        merged = dict(ident)
        for key, value in inst.items():
            merged[key] = merge(ident[key], value) if key in ident else value
        return merged
    return inst


@dataclass(frozen=True)
class Rows:
    """What saving one snapshot writes: its environment, its packages, its sighting."""

    fingerprint: str
    environment: Dict[str, Any]
    packages: List[Dict[str, str]]
    sighting: Dict[str, Any]
    outputs: List[Dict[str, Any]] = field(default_factory=list)  # probe_outputs rows


def rows(snapshot: Snapshot) -> Rows:
    """The rows for ``snapshot``. JSON columns hold Python values (None for SQL NULL).

    A snapshot whose ``fingerprint`` does not match its content (edited by hand) is refused: it
    would be filed under another environment. An empty fingerprint is computed.
    """
    return rows_from_data(snapshot.model_dump(mode="json"))


def rows_of(snapshot: Any) -> Rows:
    """:func:`rows` for a Snapshot, :func:`rows_from_data` for its plain JSON data."""
    return rows_from_data(snapshot) if isinstance(snapshot, dict) else rows(snapshot)


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise BadInput("captured_at must carry a time zone (UTC)")
    return moment


def rows_from_data(data: Dict[str, Any]) -> Rows:
    """:func:`rows` for a snapshot as plain JSON data (``Snapshot.model_dump(mode="json")``, or
    what :func:`envparity.collect.capture.collect_data` returns): no pydantic on this path."""
    sid = data.get("snapshot_id")
    if not sid:
        raise BadInput("snapshot has no snapshot_id; capture it with `envparity snapshot`")
    fp = fingerprint_data(data)
    given = data.get("fingerprint")
    if given and given != fp:
        raise BadInput(
            f"snapshot {sid}: its fingerprint {given[:12]} "
            f"does not match its content ({fp[:12]}); was it edited? "
            "Recompute it with Snapshot.with_fingerprint()"
        )
    ident, inst = split(data)
    now = datetime.now(timezone.utc)
    platform = data.get("platform") or {}
    sighting: Dict[str, Any] = {
        "snapshot_id": sid,
        "fingerprint": fp,
        "role": data.get("role", ""),
        "captured_at": _aware(data["captured_at"]),
        "hostname": platform.get("hostname"),
        "labels": dict(data.get("labels") or {}),
        "envparity_version": (data.get("collection") or {}).get("envparity_version", ""),
        "stored_at": now,
    }
    for name in JSON_FIELDS:
        sighting[name] = inst.pop(name, None)
    sighting["numerics"], outputs = split_outputs(sighting["numerics"], now)
    for name in _SIGHTING_FIELDS:
        inst.pop(name, None)
    sighting["instance"] = inst
    environment = {
        "fingerprint": fp,
        "schema_version": data["schema_version"],
        "python_version": (data.get("python") or {}).get("version", ""),
        "package_count": len(data.get("packages") or []),
        "identity": ident,
        "created_at": now,
    }
    pkgs = sorted({(p["name"], p["version"]) for p in data.get("packages") or []})
    packages = [{"fingerprint": fp, "name": n, "version": v} for n, v in pkgs]
    return Rows(fp, environment, packages, sighting, outputs)


# --- probe outputs: stored once by content (migration 0002) ------------------------------------


def split_outputs(
    numerics: Optional[List[Dict[str, Any]]], now: datetime
) -> Tuple[Optional[List[Dict[str, Any]]], List[Dict[str, Any]]]:
    """(numerics without their outputs, probe_outputs rows): a sighting keeps the sha256 only."""
    if not numerics:
        return numerics, []
    from ..parity.encode import compressed_from_text

    kept: List[Dict[str, Any]] = []
    outputs: Dict[str, Dict[str, Any]] = {}
    for entry in numerics:
        text, key = entry.get("output"), entry.get("sha256")
        if text and key:
            data = compressed_from_text(text)
            outputs[key] = {
                "sha256": key,
                "encoding": "zlib",
                "size": len(data),
                "data": data,
                "created_at": now,
            }
            entry = {**entry, "output": None}
        kept.append(entry)
    return kept, list(outputs.values())


def output_keys(numerics: Optional[List[Dict[str, Any]]]) -> List[str]:
    """The sha256 of every output a stored sighting's numerics left in probe_outputs."""
    return sorted(
        {
            e["sha256"]
            for e in numerics or []
            if e.get("sha256") and not e.get("output") and not e.get("partial")
            and e.get("status", "ok") == "ok"
        }
    )


def join_outputs(
    numerics: Optional[List[Dict[str, Any]]], found: Dict[str, bytes]
) -> Optional[List[Dict[str, Any]]]:
    """Inverse of :func:`split_outputs` given the probe_outputs rows ``found`` (sha256: data)."""
    if not numerics or not found:
        return numerics
    import base64

    out = []
    for entry in numerics:
        data = found.get(entry.get("sha256") or "")
        if data is not None and not entry.get("output"):
            entry = {**entry, "output": base64.b64encode(bytes(data)).decode("ascii")}
        out.append(entry)
    return out


# --- RECORD lists: stored once by content (migration 0005) -----------------------------------


def content_digests(data: Dict[str, Any]) -> List[str]:
    """The content digests of a snapshot's packages (schema 3), sorted."""
    return sorted(
        {
            p["content"]
            for p in [*(data.get("packages") or []), *(data.get("shadowed") or [])]
            if isinstance(p, dict) and p.get("content")
        }
    )


def record_rows(digests: List[str], now: datetime) -> List[Dict[str, Any]]:
    """records rows for the digests whose RECORD lists this process read (a capture here)."""
    import zlib

    from ..collect.packages import local_lines

    found = []
    for digest in digests:
        lines = local_lines(digest)
        if lines is None:
            continue  # captured elsewhere (a file, another process): the digest alone is kept
        data = zlib.compress("\n".join(lines).encode("utf-8", "surrogateescape"), 1)
        found.append(
            {
                "digest": digest,
                "encoding": "zlib",
                "files": len(lines),
                "size": len(data),
                "data": data,
                "created_at": now,
            }
        )
    return found


def record_lines(data: bytes) -> List[str]:
    """Inverse of :func:`record_rows` for one row's ``data``."""
    import zlib

    text = zlib.decompress(bytes(data)).decode("utf-8", "surrogateescape")
    return text.split("\n") if text else []


def snapshot_from(
    identity: Dict[str, Any], instance: Dict[str, Any], columns: Dict[str, Any]
) -> Snapshot:
    """The Snapshot a stored environment and sighting make together."""
    from ..model import Snapshot
    from ..redact import redact_snapshot

    # Today's rules on what an older envparity stored (redact on read).
    data = redact_snapshot(merge(identity, instance))
    data.update(columns)
    return Snapshot.model_validate(data)
