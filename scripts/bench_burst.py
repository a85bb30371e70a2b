"""Benchmark a deploy burst: hundreds of serving containers starting at once, all writing.

    python scripts/bench_burst.py [--hooks 500] [--parallel 16] [--pg-url URL] [--skip-sqlite]
        [--budget 2]

For one PostgreSQL store (a fresh database from ``--pg-url`` / ENVPARITY_TEST_PG_URL, dropped
after) and one SQLite store, starts ``--hooks`` ``envparity run --baseline TAG -- python -c pass``
children, ``--parallel`` at a time, each with its own ENVPARITY_HOME (a container's: its own
spool, an empty baseline cache) and the default deferred storing. Then it waits until the store
holds every snapshot (at most 60 s after the last start; what is still spooled then is drained
with ``envparity db flush`` and counted as late) and prints:

- how long the starts took (the goal: all within 10 s),
- stored / lost / duplicated snapshots (lost: a snapshot id some hook logged that is neither
  stored nor spooled; duplicated: the rollup's count beyond the sightings'),
- when the last snapshot was stored, counted from the first start (the goal: within 60 s),
- the added start-up per hook, p50 and p95: its wall time less the median of ``python -c pass``
  run the same way (``--parallel`` at a time).

Figures from a busy machine are worth little: say how busy it was (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Set, Tuple

TAG = "burst-baseline"


def _percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _fresh_pg(pg_url: str) -> str:
    import psycopg

    admin = pg_url.rpartition("/")[0].replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"fleet_burst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_url.rpartition('/')[0]}/{name}"


def _drop_pg(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    admin = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _prepare(url: str) -> None:
    """Migrate the store and tag a baseline (the hook never migrates PostgreSQL)."""
    import envparity
    from envparity.store import open_store

    base = envparity.snapshot(role="training")
    with open_store(url) as store:
        store.save(base)
        store.tag(base.snapshot_id, TAG)


def _one(cmd: List[str], env: Dict[str, str], cwd: str) -> Tuple[float, float, str]:
    """(start, wall seconds, stderr) of one child. Its stderr goes to a file, not a pipe: the
    detached writer keeps it open, and the time to measure ends when the server exits."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        code = proc.wait()
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read()
    if code != 0:
        sys.stderr.write(text)
        raise SystemExit(f"{' '.join(cmd)} exited {code}")
    return start, wall, text


def _ids(stderrs: List[str]) -> Set[str]:
    ids = set()
    for err in stderrs:
        for line in err.splitlines():
            if line.startswith("{") and '"envparity.startup"' in line:
                sid = json.loads(line)["snapshot_id"]
                if sid:
                    ids.add(sid)
    return ids


def _stored(url: str, ids: Set[str]) -> Tuple[int, int]:
    """(how many of ``ids`` are stored, the rollup's count less the sightings' count)."""
    import sqlalchemy as sa

    from envparity.store import open_store

    with open_store(url) as store, store.engine.connect() as conn:
        found = set(conn.execute(sa.text("SELECT snapshot_id FROM sightings")).scalars())
        rolled = conn.execute(sa.text("SELECT sum(sightings) FROM sighting_rollup")).scalar()
    return len(ids & found), int(rolled or 0) - len(found)


def burst(
    name: str, url: str, hooks: int, parallel: int, plain_ms: float, tmp: str, budget: float
) -> None:
    _prepare(url)
    cli = os.path.join(os.path.dirname(sys.executable), "envparity")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    base_env.update(ENVPARITY_DB_URL=url, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
    cmd = [cli, "run", "--baseline", TAG, "--budget", str(budget), "--", sys.executable, "-c",
           "pass"]
    homes = [os.path.join(tmp, name, f"home-{i}") for i in range(hooks)]
    for home in homes:
        os.makedirs(home)
    first = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        results = list(
            pool.map(lambda h: _one(cmd, dict(base_env, ENVPARITY_HOME=h), tmp), homes)
        )
    starts = [s for s, _, _ in results]
    started_in = max(starts) - first
    ids = _ids([e for _, _, e in results])
    missing = hooks - len(ids)
    if missing:  # past the budget before the snapshot was taken: nothing to store
        print(f"  {missing} hooks took no snapshot within the --budget of {budget:g} s")
    deadline = max(starts) + 60
    stored, extra = _stored(url, ids)
    while stored < len(ids) and time.perf_counter() < deadline:
        time.sleep(0.5)
        stored, extra = _stored(url, ids)
    stored_at = time.perf_counter() - first
    late = 0
    if stored < len(ids):  # drain what is still spooled, and count it as late
        for home in homes:
            subprocess.run(
                [cli, "db", "flush"], env=dict(base_env, ENVPARITY_HOME=home), capture_output=True
            )
        now, extra = _stored(url, ids)
        late, stored = now - stored, now
    added = [w * 1e3 - plain_ms for _, w, _ in results]
    print(
        f"{name}: {hooks} hooks, {parallel} at a time, started within {started_in:.1f} s; "
        f"{stored}/{len(ids)} snapshots stored ({late} only by `db flush` after 60 s), "
        f"{len(ids) - stored} lost, {max(0, extra)} duplicated; all stored {stored_at:.1f} s "
        f"after the first start; added start-up p50 {statistics.median(added):.0f} ms, "
        f"p95 {_percentile(added, 0.95):.0f} ms",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hooks", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--pg-url", default=os.environ.get("ENVPARITY_TEST_PG_URL"))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="the hook's budget (its default, 2 s); a machine too busy to take a snapshot "
        "within it stores nothing, which this run then reports",
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        plain = [sys.executable, "-c", "pass"]
        with ThreadPoolExecutor(args.parallel) as pool:
            walls = list(pool.map(lambda _: _one(plain, env, tmp)[1], range(100)))
        plain_ms = statistics.median(walls) * 1e3
        print(f"`python -c pass`, {args.parallel} at a time: median {plain_ms:.0f} ms")
        pg: Optional[str] = _fresh_pg(args.pg_url) if args.pg_url else None
        try:
            if pg:
                burst("PostgreSQL", pg, args.hooks, args.parallel, plain_ms, tmp, args.budget)
            else:
                print("PostgreSQL: skipped (no --pg-url / ENVPARITY_TEST_PG_URL)")
        finally:
            if pg:
                _drop_pg(pg)
        if not args.skip_sqlite:
            url = f"sqlite:///{os.path.join(tmp, 'burst.db')}"
            burst("SQLite", url, args.hooks, args.parallel, plain_ms, tmp, args.budget)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
