"""How a benchmark worker process is started: the interpreter, its environment and flags.

:class:`Side` is one side of a run; :func:`this_side` is this environment (``run_suite``),
:func:`paired_side` and :func:`other_side` the two sides of ``bench --against``, built alike;
:func:`launch` is the argv and environment of one worker of a paired round.

Workers start with ``-m envparity.bench.worker`` as built here, not through
:mod:`envparity.interpreter`'s bootstrap, so that both sides of a paired run start exactly alike;
running one and reading its answer back is shared (:func:`.workers.run_worker`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

from ..errors import BadInput
from ..interpreter import PACKAGE_DIR


class Side:
    """How to start one side's workers: the interpreter, its environment and flags.

    This environment (:func:`this_side`) runs its workers without ``site`` and passes its own
    sys.path, so that what .pth files would import is not paid by every worker. Another
    interpreter (:func:`other_side`) runs with its own site-packages; only envparity itself is
    added to its path (through a directory holding a link to this package, never this
    environment's site-packages, which would bring this side's NumPy along).
    """

    def __init__(
        self,
        python: str,
        env: Dict[str, str],
        flags: List[str],
        sys_path: List[str],
        extra: Dict[str, str],
    ):
        from ..redact import redact

        self.python = python
        self.env = env
        self.flags = flags
        self.sys_path = sys_path
        # What the run records of the extra variables: a token passed with --env is not kept.
        self.extra = {k: redact(k, v) for k, v in extra.items()}


def this_side(extra: Optional[Dict[str, str]] = None) -> Side:
    """This interpreter and environment, with ``extra`` variables for its workers."""
    paths = [p for p in sys.path if p]
    env = dict(os.environ)
    env.update(extra or {})
    flags: List[str] = []
    # The worker runs without ``site`` (-S): this process's sys.path, site-packages and .pth
    # entries included, reaches it through PYTHONPATH, and what .pth files would import at
    # start-up (40 ms of certifi on one machine seen) is not paid again by every worker.
    # Windows keeps site: .pth files there also add DLL directories.
    if os.name != "nt" and paths:
        flags = ["-S"]
        home = os.path.dirname(PACKAGE_DIR)
        if not any(_same_dir(p, home) for p in paths):
            # An editable install finds envparity through an import hook that a .pth file
            # installs, which -S skips: the worker reaches it through the link directory.
            paths = [*paths, _shim()]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return Side(sys.executable, env, flags, paths, dict(extra or {}))


_SHIMS: Dict[str, str] = {}


def _same_dir(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a or ".", b)
    except OSError:
        return False


def _shim() -> str:
    """A directory whose only entry is a link to this envparity package."""
    package = PACKAGE_DIR
    if package not in _SHIMS:
        import atexit
        import shutil
        import tempfile

        root = tempfile.mkdtemp(prefix="envparity-shim-")
        atexit.register(shutil.rmtree, root, True)
        try:
            os.symlink(package, os.path.join(root, "envparity"), target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege): copy the package
            shutil.copytree(package, os.path.join(root, "envparity"))
        _SHIMS[package] = root
    return _SHIMS[package]


def _interpreter(python: str) -> str:
    """The path of a working Python 3.9+ interpreter named by ``--against``, or BadInput."""
    import shutil

    found = shutil.which(python) if os.sep not in python else python
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise BadInput(f"--against {python!r}: no such interpreter; give a path or a name on PATH")
    try:
        done = subprocess.run(
            [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BadInput(f"--against {python!r}: cannot run it ({e})") from None
    version = done.stdout.strip()
    if done.returncode != 0 or not re.match(r"^\d+\.\d+$", version):
        raise BadInput(f"--against {python!r}: not a working Python interpreter")
    if tuple(int(x) for x in version.split(".")) < (3, 9):
        raise BadInput(f"--against {python!r}: Python {version}; envparity needs 3.9 or newer")
    return found


def paired_side(python: str, extra: Optional[Dict[str, str]] = None) -> Side:
    """One side of ``bench --against``: an interpreter on this host (it may be this one).

    Both sides are built here and nowhere else, so they start alike: this process's variables
    without PYTHONPATH (which may point into this environment), plus the side's ``extra``, plus
    a PYTHONPATH of only the directory that links to this envparity package; the same flags (none:
    each interpreter starts through its own ``site``, so its own site-packages and .pth files
    are there), and the current directory on the path for the user's modules. Any difference
    between the sides is then the interpreter and the variables the user gave it, not how
    envparity started them. (The baseline used to start like :func:`this_side`, with ``-S`` and
    its whole sys.path on PYTHONPATH, the candidate through ``site``; A/A runs then leant 2-3%
    towards "candidate slower".)
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra or {})
    env["PYTHONPATH"] = _shim()
    return Side(python, env, [], [os.getcwd()], dict(extra or {}))


def other_side(python: str, extra: Optional[Dict[str, str]] = None) -> Side:
    """Another interpreter on this host (it may be this one), with ``extra`` variables: a
    :func:`paired_side` after checking that ``python`` is a working Python 3.9+."""
    return paired_side(_interpreter(python), extra)


def launch(side: Side, round_index: int) -> Tuple[List[str], Dict[str, str]]:
    """``(argv, environment)`` of a worker of ``side`` in round ``round_index`` of a paired run.

    Both workers of a round get the same hash seed (unless the user set PYTHONHASHSEED): string
    hashing decides dict and set layouts, so a seed drawn per process adds noise that pairing
    cannot remove.
    """
    env = dict(side.env)
    if "PYTHONHASHSEED" not in side.env:
        env["PYTHONHASHSEED"] = str(1 + round_index % 4294967295)
    return [side.python, *side.flags, "-m", "envparity.bench.worker"], env
