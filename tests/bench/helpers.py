"""Shared by the bench tests: child processes with NumPy hidden, small user modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

REPO = Path(__file__).resolve().parents[2]

# A sitecustomize that makes `import numpy` fail, as in an environment without NumPy. Children of
# that process (benchmark workers) inherit PYTHONPATH, so they cannot import it either.
_BLOCKER = '''
import sys

class _NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("No module named 'numpy' (hidden by the test)")
        return None

sys.meta_path.insert(0, _NoNumpy())
'''


def without_numpy_env(tmp: Path) -> Dict[str, str]:
    """An environment whose Python processes cannot import NumPy."""
    blocker = tmp / "no-numpy"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(_BLOCKER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}


def python(code: str, env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None) -> str:
    """Run ``code`` in a fresh interpreter; its stdout (fails the test on a non-zero exit)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
