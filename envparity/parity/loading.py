"""Finding the user's probes: modules that call ``register_probe`` on import, and running them.

Probe modules come from ``--probes MODULE`` (repeatable), ``[tool.envparity] probes = [...]`` in
the project's pyproject.toml, ``ENVPARITY_PROBES`` (comma-separated, for ``envparity run``) or
``envparity.snapshot(probes=[...])``. Importing one registers its probes (and benchmarks).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence

from ..errors import BadInput

if TYPE_CHECKING:
    from ..model import NumericResult

PROBES_ENV = "ENVPARITY_PROBES"


def import_probes(modules: Iterable[str], *, source: str = "--probes") -> List[str]:
    """Import each module (the working directory first on sys.path, as ``python -m`` does).

    A module that cannot be imported is a BadInput quoting the error: a probe that silently does
    not run would make the parity gate pass vacuously.
    """
    done = []
    for module in modules:
        module = module.strip()
        if not module:
            continue
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            importlib.import_module(module)
        except Exception as e:  # noqa: BLE001 - the user's module may raise anything on import
            raise BadInput(
                f"{source} {module}: cannot import it ({type(e).__name__}: {e}); run from the "
                "directory that holds it or install it"
            ) from None
        done.append(module)
    return done


def policy_probes(policy_path: Optional[str] = None) -> List[str]:
    """The ``probes`` of the policy (``--policy`` file, else the nearest pyproject.toml upward)."""
    from ..policy import load_policy

    return list(load_policy(policy_path).probes)


def env_probes(environ: Optional[dict] = None) -> List[str]:
    """``ENVPARITY_PROBES`` as a list of modules (comma or whitespace separated)."""
    text = (environ if environ is not None else os.environ).get(PROBES_ENV, "")
    return [m for m in text.replace(",", " ").split() if m]


def collect_modules(
    given: Optional[Sequence[str]], *, policy_path: Optional[str] = None, use_policy: bool = True
) -> List[str]:
    """``given`` modules (else ENVPARITY_PROBES') plus the policy's, deduplicated in order."""
    modules = list(given or env_probes())
    if use_policy:
        modules += policy_probes(policy_path)
    return list(dict.fromkeys(modules))


def run_probes(
    modules: Sequence[str] = (), *, numerics: bool = False, source: str = "--probes"
) -> List[NumericResult]:
    """Import ``modules``, then record the registered probes (and, with ``numerics``, the
    built-in and convention ones first)."""
    from ..bench.numerics import run_numerics

    import_probes(modules, source=source)
    return run_numerics(builtin=numerics)


def check_interpreter(snapshot: Any) -> None:
    """Probes run in this interpreter: a snapshot of another (``--python``) cannot hold them."""
    if snapshot.collection.interpreter:
        raise BadInput(
            "--probes runs probes in this interpreter, not --python's; run envparity inside "
            "that environment"
        )


def attach_registered(snapshot: Any) -> Any:
    """``snapshot`` with the registered probes recorded as its numerics (no built-in ones)."""
    from ..bench.numerics import run_registered

    check_interpreter(snapshot)
    return snapshot.model_copy(update={"numerics": run_registered()})
