"""What makes two environments the same: identity fields, their canonical JSON, the fingerprint.

Works on plain JSON data (stdlib only), so the CLI can fingerprint a capture without building the
pydantic models, and ``envparity.model.fingerprint`` gives the same answer from a Snapshot.

Instance-only fields describe one process or machine (hostname, pid, install paths, GPU UUIDs,
times, role and labels, timings). They are recorded but are not part of the identity: ten thousand
identical containers share one fingerprint, and these values never make drift findings. The same
fields carry ``instance=True`` in the model's JSON Schema; a test keeps the two in step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Final, FrozenSet

#: The snapshot schema this envparity writes (history in envparity/model.py). Plain data that
#: leaves ``schema_version`` out (defaults dropped) is of this version.
SCHEMA_VERSION: Final = 2

# Path of a JSON object in a snapshot ("" is the top, "[]" is any element of a list) -> the keys
# in it that are instance-only.
INSTANCE_FIELDS: Dict[str, FrozenSet[str]] = {
    "": frozenset(
        {
            "snapshot_id",
            "fingerprint",
            "captured_at",
            "role",
            "labels",
            "numerics",
            "numpy_simd",
            "benchmarks",
            "relevance",
            "collection",
        }
    ),
    "packages[]": frozenset({"location"}),
    "shadowed[]": frozenset({"location"}),
    "python": frozenset({"executable", "prefix"}),
    "platform": frozenset({"hostname", "pid", "container_id", "k8s_pod", "k8s_namespace"}),
    "gpus.devices[]": frozenset({"index", "uuid", "pci_bus_id"}),
    "blas[]": frozenset({"filepath", "detail"}),
    "cpu": frozenset({"microcode"}),
    "determinism": frozenset({"frameworks", "library_env"}),
    "seeds": frozenset({"state_digests"}),
}

# Fields added in schema 2 whose default is not empty: a value equal to the default is left out,
# so a schema-1 snapshot read by this model keeps the fingerprint it was stored with.
DEFAULTS: Dict[str, Dict[str, Any]] = {"blas[]": {"state": "ok"}}

# Lists whose elements marked ``"tool": true`` are left out of the identity.
TOOL_LISTS = frozenset({"packages", "shadowed"})


def _strip(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        drop = INSTANCE_FIELDS.get(path, frozenset())
        defaults = DEFAULTS.get(path, {})
        return {
            k: _strip(v, f"{path}.{k}" if path else k)
            for k, v in value.items()
            if k not in drop and not (k in defaults and defaults[k] == v)
        }
    if isinstance(value, list):
        if path in TOOL_LISTS:  # envparity's own packages are not the environment's
            value = [v for v in value if not (isinstance(v, dict) and v.get("tool"))]
        return [_strip(v, path + "[]") for v in value]
    return value


def identity_data(data: Dict[str, Any]) -> Dict[str, Any]:
    """The snapshot data (JSON types) without its instance-only fields."""
    result = _strip(data, "")
    assert isinstance(result, dict)
    return result


def _drop_empty(value: Any) -> Any:
    # A value that is absent, null, false, empty or "" says the same thing whichever way it was
    # spelled, so a capture that leaves a default out and one that writes it get one fingerprint.
    if isinstance(value, dict):
        kept = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, False, "", [], {})}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted, compact, ASCII JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def fingerprint_data(data: Dict[str, Any]) -> str:
    """sha256 over the canonical JSON of the identity of snapshot ``data``."""
    canonical = canonical_json(_drop_empty(identity_data(data)))
    return hashlib.sha256(canonical.encode()).hexdigest()
