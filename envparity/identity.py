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
SCHEMA_VERSION: Final = 3

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
    "packages[]": frozenset({"location", "installer", "url"}),
    "shadowed[]": frozenset({"location", "installer", "url"}),
    "python": frozenset({"executable", "prefix"}),
    "platform": frozenset({"hostname", "pid", "container_id", "k8s_pod", "k8s_namespace"}),
    "gpus.devices[]": frozenset({"index", "uuid", "pci_bus_id"}),
    "blas[]": frozenset({"filepath", "detail"}),
    "cpu": frozenset({"microcode"}),
    "determinism": frozenset({"frameworks", "library_env"}),
    "seeds": frozenset({"state_digests"}),
    "accelerator": frozenset({"source", "cuda_runtime", "cudnn", "nccl"}),
}

# Instance fields by the schema that made them so: a snapshot's fingerprint is always computed
# with the rules of its own ``schema_version``, so an older snapshot keeps the fingerprint it was
# stored with (these fields stay in its identity).
SINCE: Dict[int, Dict[str, FrozenSet[str]]] = {
    # Schema 3: a distribution is its content (the RECORD digest), so how and from where it was
    # installed is an instance value; the accelerator versions are read only where a framework
    # was imported, and the identity must not depend on that (the packages already pin them).
    3: {
        "packages[]": frozenset({"installer", "url"}),
        "shadowed[]": frozenset({"installer", "url"}),
        "accelerator": frozenset({"source", "cuda_runtime", "cudnn", "nccl"}),
    },
}

# Package fields that stay identity in a schema-3 distribution without a content digest (no
# RECORD: today's fields are all there is), or whose origin is its identity (editable, VCS).
_ORIGIN_KEPT = frozenset({"installer", "url"})
_PACKAGE_PATHS = frozenset({"packages[]", "shadowed[]"})

# Fields added in schema 2 whose default is not empty: a value equal to the default is left out,
# so a schema-1 snapshot read by this model keeps the fingerprint it was stored with.
DEFAULTS: Dict[str, Dict[str, Any]] = {"blas[]": {"state": "ok"}}

# Lists whose elements marked ``"tool": true`` are left out of the identity.
TOOL_LISTS = frozenset({"packages", "shadowed"})


def instance_fields(schema_version: int) -> Dict[str, FrozenSet[str]]:
    """:data:`INSTANCE_FIELDS` as the rules of snapshot schema ``schema_version`` had them."""
    fields = dict(INSTANCE_FIELDS)
    for since, added in SINCE.items():
        if schema_version < since:
            for path, keys in added.items():
                fields[path] = fields.get(path, frozenset()) - keys
    return fields


def _kept_origin(package: Dict[str, Any]) -> FrozenSet[str]:
    """Origin fields that stay in a schema-3 package's identity."""
    if not package.get("content"):
        return _ORIGIN_KEPT  # no RECORD: its origin is the best evidence there is
    if package.get("editable") or package.get("vcs"):
        return frozenset({"url"})  # the checkout or repository it names is what it is
    return frozenset()


def _strip(value: Any, path: str, fields: Dict[str, FrozenSet[str]]) -> Any:
    if isinstance(value, dict):
        drop = fields.get(path, frozenset())
        if path in _PACKAGE_PATHS and drop & _ORIGIN_KEPT:
            drop = drop - _kept_origin(value)
        defaults = DEFAULTS.get(path, {})
        return {
            k: _strip(v, f"{path}.{k}" if path else k, fields)
            for k, v in value.items()
            if k not in drop and not (k in defaults and defaults[k] == v)
        }
    if isinstance(value, list):
        if path in TOOL_LISTS:  # envparity's own packages are not the environment's
            value = [v for v in value if not (isinstance(v, dict) and v.get("tool"))]
        return [_strip(v, path + "[]", fields) for v in value]
    return value


def schema_of(data: Dict[str, Any]) -> int:
    """The snapshot schema of ``data`` (absent: this envparity's)."""
    version = data.get("schema_version")
    return version if isinstance(version, int) else SCHEMA_VERSION


def _variables(result: Dict[str, Any]) -> None:
    # Schema 3: variables are classified by effect (envparity.collect.envvars.VARIABLES).
    from .collect.envvars import identity_env

    platform = result.get("platform")
    preferred = platform.get("preferred_encoding") if isinstance(platform, dict) else None
    if isinstance(result.get("env"), dict):
        result["env"] = identity_env(result["env"], preferred)
    determinism = result.get("determinism")
    if isinstance(determinism, dict) and isinstance(determinism.get("env"), dict):
        determinism["env"] = identity_env(determinism["env"], preferred)


def identity_data(data: Dict[str, Any]) -> Dict[str, Any]:
    """The snapshot data (JSON types) without its instance-only fields, by the identity rules of
    the snapshot's own ``schema_version``."""
    result = _strip(data, "", instance_fields(schema_of(data)))
    assert isinstance(result, dict)
    if schema_of(data) >= 3:
        _variables(result)
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


def rules_changed(old: Dict[str, Any], new: Dict[str, Any]) -> bool:
    """True when ``old`` and ``new`` are one environment whose fingerprint changed only because
    the identity rules did (an older ``schema_version``), not because anything in it did.

    Both are read by the newer snapshot's rules: equal identities mean the change of fingerprint
    is the upgrade's. ``fleet`` shows such a pair as one environment's old and new fingerprint,
    not as drift.
    """
    va, vb = schema_of(old), schema_of(new)
    if va == vb:
        return False
    rules = instance_fields(max(va, vb))
    ia, ib = _strip(old, "", rules), _strip(new, "", rules)
    for side in (ia, ib):
        for pkg in [*side.get("packages", []), *side.get("shadowed", [])]:
            if isinstance(pkg, dict) and not (pkg.get("editable") or pkg.get("vcs")):
                pkg.pop("installer", None)
                pkg.pop("url", None)
    return _agree(_drop_empty(ia), _drop_empty(ib))


def _agree(a: Any, b: Any) -> bool:
    # A key one side's schema predates (absent there) is unknown, not different.
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_agree(a[k], b[k]) for k in a.keys() & b.keys() if k != "schema_version")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_agree(x, y) for x, y in zip(a, b))
    return bool(a == b)
