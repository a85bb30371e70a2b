"""What a parity probe over a 10,000 x 3 float64 output costs: in a snapshot, and to compare.

    .venv/bin/python scripts/bench_parity.py [--repeat 30]

Medians over ``--repeat`` runs, each measured separately:

- record: ``numerics.record`` of a probe whose function returns a precomputed 10,000 x 3 array
  (so only envparity's work is timed: tracemalloc, encoding, sha256, zlib, the sample);
- json: what the probe adds to writing the snapshot JSON (``model_dump_json`` with it minus
  without it);
- store: what it adds to saving the snapshot in an existing SQLite store (stdlib fast path, the
  one ``envparity snapshot`` takes; its output goes to probe_outputs);
- compare: ``compare_probe`` of two records that differ in one cell (decode both, compare every
  value, per-column report).

Each is set against what a user would otherwise run: ``numpy.savez_compressed`` of the array to
memory (recording), ``numpy.testing.assert_allclose`` (comparing). Budgets: added to a snapshot
(record + json + store) < 50 ms; compare < 20 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any, Callable, List


def _median_s(fn: Callable[[], Any], repeat: int) -> float:
    times: List[float] = []
    fn()  # warm-up: imports, caches
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    import numpy as np

    from envparity.bench.numerics import record
    from envparity.collect.capture import capture
    from envparity.parity.compare import compare_probe
    from envparity.store import fast, open_store

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    n = args.repeat

    rng = np.random.default_rng(0)
    base = rng.random((10_000, 3))
    cand = base.copy()
    cand[4711, 1] *= 1.01
    rec_b = record("features", lambda: base)
    rec_c = record("features", lambda: cand)
    plain_b, plain_c = rec_b.model_dump(mode="json"), rec_c.model_dump(mode="json")

    t_record = _median_s(lambda: record("features", lambda: base), n)
    t_savez = _median_s(lambda: np.savez_compressed(io.BytesIO(), a=base), n)

    snap = capture(role="bench")
    with_probe = snap.model_copy(update={"numerics": [rec_b]})
    without = snap.model_copy(update={"numerics": []})
    t_json = _median_s(with_probe.model_dump_json, n) - _median_s(without.model_dump_json, n)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        with open_store(url) as store:
            store.save(without)

        def save(s: Any) -> Callable[[], Any]:
            return lambda: fast.save(s.model_copy(update={"snapshot_id": uuid.uuid4().hex}), url)

        t_store = _median_s(save(with_probe), n) - _median_s(save(without), n)

    t_compare = _median_s(lambda: compare_probe("features", plain_b, plain_c), n)

    def allclose() -> None:
        try:
            np.testing.assert_allclose(cand, base, rtol=1e-6, atol=1e-9)
        except AssertionError:
            pass

    t_allclose = _median_s(allclose, n)
    added = t_record + max(t_json, 0.0) + max(t_store, 0.0)
    ms = 1e3
    print(f"10,000 x 3 float64, medians of {n} runs (python {sys.version.split()[0]})")
    print(
        f"  record (encode, sha256, zlib, tracemalloc) {t_record * ms:7.2f} ms"
        f"   numpy.savez_compressed {t_savez * ms:7.2f} ms  ratio {t_record / t_savez:.2f}"
    )
    print(f"  snapshot JSON, added                       {t_json * ms:7.2f} ms")
    print(f"  SQLite save (fast path), added             {t_store * ms:7.2f} ms")
    print(f"  added to a snapshot in all                 {added * ms:7.2f} ms   budget 50 ms")
    print(
        f"  compare (decode both, every value)         {t_compare * ms:7.2f} ms"
        f"   assert_allclose {t_allclose * ms:7.2f} ms  ratio {t_compare / t_allclose:.2f}"
        "   budget 20 ms"
    )
    print(f"  compressed output {rec_b.output_bytes} bytes of {base.nbytes}")
    return 0 if added < 0.050 and t_compare < 0.020 else 1


if __name__ == "__main__":
    sys.exit(main())
