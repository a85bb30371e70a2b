"""Run every probe and assemble a snapshot: as plain JSON data, or as a validated Snapshot.

``collect_data`` needs no pydantic: ``envparity snapshot --no-store`` writes its result directly,
which keeps the command several times faster than ``pip freeze``. ``capture`` validates the same
data section by section into a :class:`~envparity.model.Snapshot`.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

from .._version import __version__
from ..identity import fingerprint_data
from ..labels import check_labels, check_role
from . import remote
from .interface import Context

if TYPE_CHECKING:
    from ..model import Snapshot

SCHEMA_VERSION = 3  # envparity.model.SCHEMA_VERSION, without importing pydantic here

# Probes that describe the machine and this process; the interpreter ones are in remote.
HOST_PROBES = ("platform", "cpu", "gpu", "code")
PROCESS_PROBES = ("frameworks", "seeds")


def collect_data(
    *,
    role: str = "",
    labels: Optional[Mapping[str, str]] = None,
    python: Optional[str] = None,
    frameworks: bool = False,
    ctx: Optional[Context] = None,
    loaded: bool = False,
    models: Sequence[str] = (),
) -> Dict[str, Any]:
    """The snapshot as JSON data, fingerprint included. See :func:`capture`."""
    role = check_role(role)
    labels = check_labels(labels or {})
    relevance = None
    if loaded or models:
        from ..errors import BadInput
        from ..relevance.record import record

        if python and models:
            raise BadInput(
                "--model with --python: the model is mapped to this interpreter's "
                "distributions; run `envparity snapshot --model` with that interpreter instead"
            )
        # Before the probes: a model that cannot be read fails fast, and nothing is written.
        relevance = record(loaded=loaded and not python, models=models)
    ctx = ctx or Context(frameworks=frameworks)
    if python:
        data, durations = remote.collect(python, ctx)
        host, host_durations = remote.run_probes(ctx, HOST_PROBES)
        data.update(host)
        durations.update(host_durations)
    else:
        data, durations = remote.run_probes(
            ctx, remote.INTERPRETER_PROBES + HOST_PROBES + PROCESS_PROBES
        )
    snapshot: Dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "snapshot_id": uuid.uuid4().hex,
        "fingerprint": "",
        "captured_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        "role": role,
        "labels": dict(labels or {}),
        "packages": data.get("packages") or [],
        "shadowed": data.get("shadowed") or [],
        "conda_packages": data.get("conda_packages") or [],
        "python": data.get("python") or {"implementation": "unknown", "version": "unknown"},
        "platform": data.get("platform") or {},
        "cpu": data.get("cpu") or {},
        "memory": data.get("memory") or {},
        "gpus": data.get("gpus") or {},
        "accelerator": data.get("accelerator") or {},
        "blas": data.get("blas") or [],
        "determinism": {
            "env": data.get("determinism_env") or {},
            "hash_randomization": data.get("hash_randomization"),
            "hash_seed": data.get("hash_seed"),
            "frameworks": data.get("frameworks") or {},
            "library_env": data.get("library_env") or {},
        },
        "seeds": data.get("seeds") or {"declared": {}, "state_digests": {}},
        "code": data.get("code"),
        "env": data.get("env") or {},
        "numerics": None,
        "numpy_simd": None,
        "benchmarks": None,
        "relevance": relevance,
        "collection": {
            "envparity_version": __version__,
            "durations_ms": durations,
            "errors": ctx.errors,
            "interpreter": python,
            "notes": ctx.notes,
        },
    }
    from .platform import add_tz_packages

    add_tz_packages(snapshot["platform"], snapshot["packages"])
    snapshot["fingerprint"] = fingerprint_data(snapshot)
    return snapshot


@functools.cache  # 3.9+
def _adapter(kind: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


def to_snapshot(data: Dict[str, Any]) -> Snapshot:
    """Validate ``collect_data`` output into a Snapshot, section by section.

    A section a probe got wrong is recorded in ``collection.errors`` and replaced by its default,
    so one bad probe never costs the snapshot.
    """
    from .. import model

    sections = {
        "packages": (List[model.Package], "packages"),
        "shadowed": (List[model.Package], "packages"),
        "conda_packages": (List[model.CondaPackage], "packages"),
        "python": (model.PythonInfo, "python"),
        "platform": (model.PlatformInfo, "platform"),
        "cpu": (model.CpuInfo, "cpu"),
        "memory": (model.MemoryInfo, "cpu"),
        "gpus": (model.GpuInfo, "gpu"),
        "accelerator": (model.AcceleratorInfo, "frameworks"),
        "blas": (List[model.BlasLibrary], "blas"),
        "determinism": (model.Determinism, "frameworks"),
        "seeds": (model.Seeds, "seeds"),
        "code": (Optional[model.CodeInfo], "code"),
        "env": (Dict[str, str], "envvars"),
    }
    from pydantic import ValidationError

    errors = list(data["collection"]["errors"])
    fields = dict(data)
    for name, (kind, probe) in sections.items():
        try:
            fields[name] = _adapter(kind).validate_python(data[name])
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            errors.append(
                {"probe": probe, "message": f"unexpected output: {first['msg']} at {where}"}
            )
            if name == "python":
                fields[name] = {"implementation": "unknown", "version": "unknown"}
            else:
                del fields[name]
    fields["collection"] = {**data["collection"], "errors": errors}
    snapshot = model.Snapshot.model_validate(fields)
    if len(errors) != len(data["collection"]["errors"]):
        snapshot = snapshot.with_fingerprint()  # a section fell back to its default
    return snapshot


def capture(
    *,
    role: str = "",
    labels: Optional[Mapping[str, str]] = None,
    python: Optional[str] = None,
    frameworks: bool = False,
    ctx: Optional[Context] = None,
    loaded: bool = False,
    models: Sequence[str] = (),
) -> Snapshot:
    """Snapshot this process's environment, or the interpreter at ``python``.

    Never raises for a probe's sake: what a probe could not read is in ``collection.errors``.
    A ``python`` that is not a working interpreter raises :class:`~envparity.errors.BadInput`.
    ``loaded``: record the distributions this process has loaded (an in-process snapshot);
    ``models``: record what these model artifacts need (a bad one raises BadInput).
    """
    return to_snapshot(
        collect_data(
            role=role, labels=labels, python=python, frameworks=frameworks, ctx=ctx,
            loaded=loaded, models=models,
        )
    )
