"""Benchmark ``envparity export`` against the tools a user would otherwise run.

    .venv/bin/python scripts/bench_export.py [--repeat 11] [--python PATH]

Snapshots the venv of PYTHON (default: this one) once, then times, each as a child process,
medians of ``--repeat`` runs:

- ``envparity export snap.json`` (requirements) vs ``pip freeze`` of the same interpreter: a
  frozen list from a stored snapshot, with no access to the environment itself;
- ``envparity export snap.json --format cyclonedx``;
- ``envparity export snap.json --format pylock --find-links DIR`` where DIR holds the wheels the
  lock resolves to (``pip download`` once), vs ``pip lock`` of the exported requirements from the
  same directory (pip 25.1+; skipped with a note on an older pip).

Figures depend on the machine's load: say so when quoting them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent


def _time(cmd: List[str], repeat: int, env: dict) -> Optional[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.stderr.write(f"{' '.join(cmd[:6])} ...: exit {done.returncode}: "
                             f"{done.stderr.strip()[-300:]}\n")
            return None
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["PYTHONPATH"] = str(ROOT)
    me = [sys.executable, "-m", "envparity"]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", args.python]
    with tempfile.TemporaryDirectory() as tmp:
        env["ENVPARITY_HOME"] = tmp
        snap = os.path.join(tmp, "snap.json")
        subprocess.run([*me, "snapshot", "--no-store", "--python", args.python, "-o", snap],
                       env=env, check=True, capture_output=True)
        req = os.path.join(tmp, "req.txt")
        subprocess.run([*me, "export", snap, "-o", req], env=env, check=True, capture_output=True)
        wheels = os.path.join(tmp, "wheels")
        subprocess.run([*pip, "download", "--no-deps", "--only-binary", ":all:", "-d", wheels,
                        "-r", req], env=env, check=True, capture_output=True)
        rows = [
            ("envparity export (requirements)", _time([*me, "export", snap], args.repeat, env)),
            ("pip freeze", _time([*pip, "freeze"], args.repeat, env)),
            ("envparity export --format cyclonedx",
             _time([*me, "export", snap, "-f", "cyclonedx"], args.repeat, env)),
            ("envparity export --format pylock",
             _time([*me, "export", snap, "-f", "pylock", "--find-links", wheels],
                   args.repeat, env)),
            ("pip lock (same wheels, --no-index)",
             _time([sys.executable, "-m", "pip", "--disable-pip-version-check", "lock",
                    "--no-index", "--no-deps", "--find-links", wheels, "-r", req,
                    "-o", os.path.join(tmp, "pylock.pip.toml")], args.repeat, env)),
        ]
    for name, median in rows:
        shown = f"{median * 1000:8.0f} ms" if median is not None else "   (not run)"
        print(f"{name:<40} {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
