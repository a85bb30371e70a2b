"""``capture()``: run every probe and assemble a :class:`~envparity.model.Snapshot`."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Type

from pydantic import BaseModel, ValidationError

from .. import __version__
from ..model import (
    AcceleratorInfo,
    BlasLibrary,
    CodeInfo,
    Collection,
    CpuInfo,
    Determinism,
    GpuInfo,
    MemoryInfo,
    Package,
    PlatformInfo,
    ProbeFailure,
    PythonInfo,
    Seeds,
    Snapshot,
)
from . import remote
from .interface import Context

# Probes that describe the machine and this process; the interpreter ones are in remote.
HOST_PROBES = ("platform", "cpu", "gpu", "code")
PROCESS_PROBES = ("frameworks", "seeds")


def _section(ctx: Context, probe: str, model: Type[BaseModel], data: Any) -> Any:
    """Validate one probe's output; a malformed one is recorded and replaced by the default."""
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as e:
        ctx.fail(probe, f"unexpected output: {e.errors()[0]['msg']} at {e.errors()[0]['loc']}")
        return None


def _list(ctx: Context, probe: str, model: Type[BaseModel], items: Any) -> list:
    valid = [_section(ctx, probe, model, item) for item in items or []]
    return [v for v in valid if v is not None]


def capture(
    *,
    role: str = "",
    labels: Optional[Mapping[str, str]] = None,
    python: Optional[str] = None,
    frameworks: bool = False,
    ctx: Optional[Context] = None,
) -> Snapshot:
    """Snapshot this process's environment, or the interpreter at ``python``.

    Never raises for a probe's sake: what a probe could not read is in ``collection.errors``.
    A ``python`` that is not a working interpreter raises :class:`~envparity.errors.BadInput`.
    """
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
    python_info = _section(ctx, "python", PythonInfo, data.get("python"))
    if python_info is None:
        python_info = PythonInfo(implementation="unknown", version="unknown")
    fields: Dict[str, Any] = {
        "snapshot_id": uuid.uuid4().hex,
        "captured_at": datetime.now(timezone.utc),
        "role": role,
        "labels": dict(labels or {}),
        "packages": _list(ctx, "packages", Package, data.get("packages")),
        "shadowed": _list(ctx, "packages", Package, data.get("shadowed")),
        "python": python_info,
        "blas": _list(ctx, "blas", BlasLibrary, data.get("blas")),
        "env": dict(data.get("env") or {}),
        "determinism": _section(
            ctx,
            "frameworks",
            Determinism,
            {"env": data.get("determinism_env") or {}, "frameworks": data.get("frameworks") or {}},
        ),
        "code": _section(ctx, "code", CodeInfo, data.get("code")),
    }
    for name, model, probe in (
        ("platform", PlatformInfo, "platform"),
        ("cpu", CpuInfo, "cpu"),
        ("memory", MemoryInfo, "cpu"),
        ("gpus", GpuInfo, "gpu"),
        ("accelerator", AcceleratorInfo, "frameworks"),
        ("seeds", Seeds, "seeds"),
    ):
        value = _section(ctx, probe, model, data.get(name))
        if value is not None:
            fields[name] = value
    if fields["determinism"] is None:
        del fields["determinism"]
    fields["collection"] = Collection(
        envparity_version=__version__,
        durations_ms=durations,
        errors=[ProbeFailure(**e) for e in ctx.errors],
        interpreter=python,
    )
    return Snapshot(**fields).with_fingerprint()
