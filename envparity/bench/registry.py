"""The user's own benchmarks and numeric probes.

Benchmarks run in fresh worker processes (noise on a shared machine is mostly between processes),
so a registered function must be importable there: it is recorded as ``module:qualname`` and the
worker imports it. A function that cannot be imported by name -- a lambda, a closure, anything
defined in ``__main__`` (a script or a notebook) -- is still accepted: it runs in the calling
process instead, in as many groups of rounds as there would be workers, and its result says so.
Numeric probes always run in the calling process (their result does not depend on process noise).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..errors import BadInput


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark: ``fn(setup())`` when ``setup`` is given, else ``fn()``."""

    name: str
    fn: Callable[..., Any]
    setup: Optional[Callable[[], Any]] = None
    target: Optional[str] = None  # "module:qualname" of fn, when a worker can import it
    setup_target: Optional[str] = None
    why_in_process: Optional[str] = None  # why it cannot run in a worker, when it cannot

    @property
    def in_process(self) -> bool:
        return self.target is None or (self.setup is not None and self.setup_target is None)


@dataclass(frozen=True)
class Probe:
    """A registered parity probe: ``fn(inputs)`` is recorded whole and compared element-wise:
    ``|a - b| <= atol + rtol * |b|``, exactly for integers, strings and categories, with
    per-column overrides in ``columns`` (``{"score": {"rtol": 1e-4}, "id": {"exact": True}}``).
    """

    name: str
    fn: Callable[[Any], Any]
    inputs: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    columns: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    max_bytes: Optional[int] = None  # cap on the compressed output kept (None: the default)


_BENCHMARKS: Dict[str, Benchmark] = {}
_PROBES: Dict[str, Probe] = {}


def import_target(target: str) -> Any:
    """The object ``module:qualname`` names (imports the module)."""
    module_name, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def importable_name(fn: Callable[..., Any]) -> tuple[Optional[str], Optional[str]]:
    """``(module:qualname, None)`` when a fresh process can import ``fn`` by name, else
    ``(None, why)``."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname:
        return None, "it has no __module__/__qualname__"
    if module == "__main__":
        return None, "it is defined in __main__ (a script, a notebook): not importable"
    if "<lambda>" in qualname or "<locals>" in qualname:
        return None, "it is a lambda or a nested function, which a worker cannot import by name"
    target = f"{module}:{qualname}"
    try:
        found = import_target(target)
    except Exception:  # noqa: BLE001 - any import failure means "not importable by name"
        return None, f"{target} cannot be imported by name"
    if found is not fn and getattr(found, "__wrapped__", None) is not fn:
        return None, f"{target} names another object (decorated or rebound)"
    return target, None


def register_benchmark(
    name: str, fn: Callable[..., Any], setup: Optional[Callable[[], Any]] = None
) -> None:
    """Add ``fn`` to every benchmark run as ``name`` (registering a name again replaces it).

    ``setup()``, when given, runs once per worker process before timing and its return value is
    passed to ``fn`` (``fn(state)``); only ``fn`` is timed. Put the thing that matters here: your
    model's predict on a sample batch. Module-level functions run in fresh worker processes;
    lambdas, closures and functions defined in ``__main__`` run in this process (see the module
    docstring).
    """
    if not isinstance(name, str) or not name.strip():
        raise BadInput("register_benchmark: name must be a non-empty string")
    if not callable(fn):
        raise BadInput(
            f"register_benchmark({name!r}): fn must be callable, got {type(fn).__name__}"
        )
    if setup is not None and not callable(setup):
        raise BadInput(f"register_benchmark({name!r}): setup must be callable or None")
    target, why = importable_name(fn)
    setup_target, setup_why = importable_name(setup) if setup is not None else (None, None)
    if target is not None and setup is not None and setup_target is None:
        why = f"its setup: {setup_why}"
    _BENCHMARKS[name] = Benchmark(name, fn, setup, target, setup_target, why)


def _tolerance(where: str, what: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{where}: {what} must be a number, got {value!r}") from None
    if not number >= 0:  # also rejects NaN
        raise BadInput(f"{where}: {what} must be >= 0, got {number}")
    return number


def _columns(where: str, columns: Optional[Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for col, spec in (columns or {}).items():
        if not isinstance(spec, Mapping) or set(spec) - {"rtol", "atol", "exact"}:
            raise BadInput(
                f"{where}: columns[{col!r}] must be a mapping of rtol, atol and exact, e.g. "
                '{"score": {"rtol": 1e-4}, "id": {"exact": True}}'
            )
        entry: Dict[str, Any] = {}
        for key in ("rtol", "atol"):
            if spec.get(key) is not None:
                entry[key] = _tolerance(where, f"columns[{col!r}][{key!r}]", spec[key])
        if spec.get("exact"):
            entry["exact"] = True
        out[str(col)] = entry
    return out


def register_probe(
    name: str,
    fn: Callable[[Any], Any],
    inputs: Any,
    rtol: float = 1e-6,
    *,
    atol: float = 1e-9,
    columns: Optional[Mapping[str, Mapping[str, Any]]] = None,
    max_bytes: Optional[int] = None,
) -> None:
    """Add a parity probe: ``fn(inputs)`` is recorded whole with every numeric run and compared
    with the other side value by value, ``|a - b| <= atol + rtol * |b|`` (NumPy's ``isclose``,
    ``b`` the baseline's), NaN equal to NaN; integers, strings, booleans and categories exactly.

    ``fn`` may return a number, a (nested) list of numbers, a NumPy array (structured or not), a
    torch tensor, a mapping of column name to values, a list of records or a pandas DataFrame.
    ``columns`` overrides the tolerances per column: ``{"score": {"rtol": 1e-4}, "id":
    {"exact": True}}`` (a 2-D array's columns are ``"0"``, ``"1"``, ...). ``max_bytes`` caps the
    compressed output kept (default 8 MiB or ``ENVPARITY_PROBE_MAX_BYTES``); beyond it the
    comparison is partial. Give fixed ``inputs`` (golden rows), not ones drawn from an RNG.
    """
    where = f"register_probe({name!r})"
    if not isinstance(name, str) or not name.strip():
        raise BadInput("register_probe: name must be a non-empty string")
    if not callable(fn):
        raise BadInput(f"{where}: fn must be callable, got {type(fn).__name__}")
    rtol = _tolerance(where, "rtol", rtol)
    atol = _tolerance(where, "atol", atol)
    if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes < 0):
        raise BadInput(f"{where}: max_bytes must be a whole number of bytes >= 0")
    _PROBES[name] = Probe(name, fn, inputs, rtol, atol, _columns(where, columns), max_bytes)


def benchmarks() -> List[Benchmark]:
    """The registered benchmarks, in registration order."""
    return list(_BENCHMARKS.values())


def probes() -> List[Probe]:
    """The registered numeric probes, in registration order."""
    return list(_PROBES.values())


def unregister(name: str) -> None:
    """Forget a registered benchmark or probe of that name (tests use it)."""
    _BENCHMARKS.pop(name, None)
    _PROBES.pop(name, None)
