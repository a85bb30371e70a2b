"""N serving containers starting together on a fresh SQLite store, with the hook's real budget.

    .venv/bin/python scripts/bench_first_start.py [--starts 16] [--budget 2]

Prints how many snapshots were stored and how many spooled, and the slowest start. A figure, not
a test: it depends on the machine's load (tests/store/test_store_first_start.py checks who
migrates and that all store, with a budget no machine reaches).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=16)
    parser.add_argument("--budget", default="2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
        env.update(
            ENVPARITY_DB_URL=f"sqlite:///{root / 'store.db'}",
            ENVPARITY_HOME=str(root / "home"),
            XDG_CACHE_HOME=str(root / "cache"),
            TMPDIR=work,
        )
        go = root / "go"
        gate = (
            "import os, sys, time\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
            f"sys.argv = ['envparity', 'run', '--budget', {args.budget!r}, '--', "
            "sys.executable, '-c', 'pass']\n"
            "from envparity.cli import main\nmain()\n"
        )
        children = [
            subprocess.Popen(
                [sys.executable, "-c", gate], env=env, cwd=work, stderr=subprocess.PIPE, text=True
            )
            for _ in range(args.starts)
        ]
        go.write_text("")
        fates: dict = {}
        slowest = 0.0
        for child in children:
            _, err = child.communicate(timeout=600)
            lines = [ln for ln in err.splitlines() if '"envparity.startup"' in ln]
            if not lines:
                print(err, file=sys.stderr)
                continue
            record = json.loads(lines[0])
            fate = str(record.get("stored"))
            fates[fate] = fates.get(fate, 0) + 1
            slowest = max(slowest, float(record.get("elapsed_ms", 0)))
    told = ", ".join(f"{n} {fate}" for fate, n in sorted(fates.items()))
    print(f"{args.starts} starts, budget {args.budget} s: {told}; slowest {slowest:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
