"""The snapshot pipeline: one request, then capture -> probes/numerics/benchmarks -> store.

Every door that takes a snapshot goes through here: the library (``envparity.snapshot``), the
``snapshot`` and ``diff`` commands, and through the library the MLflow integration. What one door
checks, all of them check (a snapshot of another interpreter never carries numbers measured in
this one), and "fast path or full store" is decided once, in :func:`store`.

Heavy modules (pydantic, SQLAlchemy, NumPy) are imported inside the functions that need them: the
request itself is free to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Tuple

from .errors import BadInput, StoreError

if TYPE_CHECKING:
    from .model import Snapshot


@dataclass(frozen=True)
class SnapshotRequest:
    """What to record in one snapshot.

    ``suite``: a benchmark suite (``quick``/``full``), with numerics unless ``numerics`` is False.
    ``numerics``: the built-in and convention probes (and every registered one).
    ``probe_modules``: modules to import first (they call ``envparity.register_probe``).
    ``probes``: record the registered parity probes even without ``numerics``.
    ``models`` and ``loaded``: what the model needs and what this process loaded (relevance).
    """

    role: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    python: Optional[str] = None
    frameworks: bool = False
    suite: Optional[str] = None
    numerics: Optional[bool] = None
    callables: Tuple[str, ...] = ()
    probe_modules: Tuple[str, ...] = ()
    probes: bool = False
    probe_source: str = "--probes"  # how the door names its probe modules, for errors
    models: Tuple[str, ...] = ()  # model artifacts whose needs to record (relevance)
    loaded: bool = False  # record the distributions this process has loaded (in-process)

    @property
    def measured(self) -> bool:
        """Whether anything runs in this interpreter beyond the capture itself."""
        return bool(
            self.suite or self.numerics or self.callables or self.probes or self.probe_modules
        )


def check(request: SnapshotRequest) -> None:
    """BadInput for a request no door may take, before any work is spent."""
    if request.callables and not request.suite:
        raise BadInput("--bench-callable needs --suite quick|full to say which suite to run with")
    if request.python and request.measured:
        raise BadInput(_OTHER_INTERPRETER)


_OTHER_INTERPRETER = (
    "--python cannot be combined with --suite, --numerics or --probes (suite=, numerics=, probes="
    " in the library): they measure this interpreter, not --python's; run envparity inside that "
    "environment instead"
)


def take_data(request: SnapshotRequest) -> Dict[str, Any]:
    """The snapshot as plain JSON data, without pydantic: for a request with nothing measured
    (``snapshot --no-store`` writes it as it is: the models cost more than the capture)."""
    from .collect.capture import collect_data

    check(request)
    if request.measured:
        raise ValueError("take_data is for requests that measure nothing; use take()")
    return collect_data(
        role=request.role,
        labels=request.labels,
        python=request.python,
        frameworks=request.frameworks,
        loaded=request.loaded,
        models=request.models,
    )


def take(request: SnapshotRequest) -> Snapshot:
    """Capture the environment ``request`` names and record what it asks to measure.

    Numbers are measured in this interpreter: a request for another one (``python``) that also
    measures something is a BadInput, whichever door it came through.
    """
    from .collect.capture import capture

    check(request)
    if request.probe_modules:
        from .parity.loading import import_probes

        # Before the suite runs: importing them registers their probes and benchmarks.
        import_probes(list(request.probe_modules), source=request.probe_source)
    snap = capture(
        role=request.role,
        labels=request.labels,
        python=request.python,
        frameworks=request.frameworks,
        loaded=request.loaded,
        models=request.models,
    )
    if request.measured and snap.collection.interpreter:
        raise BadInput(_OTHER_INTERPRETER)
    if request.suite or request.numerics:
        from .bench.runner import attach
        from .collect.simd import numpy_simd

        snap = attach(snap, request.suite, callables=request.callables, numerics=request.numerics)
        if snap.numerics is not None:
            snap = snap.model_copy(update={"numpy_simd": numpy_simd()})
    if (request.probes or request.probe_modules) and snap.numerics is None:
        from .parity.loading import attach_registered

        snap = attach_registered(snap)
    return snap


def store(snap: Snapshot, db: Optional[str] = None, *, kept: str = "") -> str:
    """Save ``snap``; returns where (the URL with its password redacted).

    The one "fast path or full store" rule (:func:`envparity.store.save`): an existing store at
    this schema is written with stdlib sqlite3 or psycopg alone, anything else through SQLAlchemy.
    A failure is a StoreError naming the snapshot and ``kept`` (where it survives, if anywhere).
    """
    from .errors import UnsupportedStore
    from .store import save
    from .store.url import resolve_url, sqlite_path

    try:
        # A command migrates only its own SQLite file; PostgreSQL only by `envparity db upgrade`.
        return save(snap, db, migrate=sqlite_path(resolve_url(db)) is not None)[1]
    except StoreError as e:
        tail = f"; {kept}" if kept else ""
        # An unsupported URL stays bad input (exit 2); the others are the store's (exit 3).
        cls = UnsupportedStore if isinstance(e, UnsupportedStore) else StoreError
        raise cls(f"snapshot {snap.snapshot_id[:12]} not stored: {e}{tail}") from None


def modules_for(probes: Any) -> Sequence[str]:
    """The library's ``probes=`` argument as module names: True -> the policy's
    ``[tool.envparity] probes``; a string or a list -> those modules; None/False -> none."""
    if probes is None or probes is False:
        return []
    if probes is True:
        from .parity.loading import policy_probes

        return policy_probes()
    return [probes] if isinstance(probes, str) else list(probes)
