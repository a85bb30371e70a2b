"""Child process for the concurrency tests: wait for the go file, then store 25 snapshots.

argv: URL WORKER GO_FILE. Prints one JSON line: what save() returned for each snapshot, and for
a replay of the first five.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from store_fixtures import make_snapshot  # noqa: E402

from envparity.model import Snapshot  # noqa: E402
from envparity.store import open_store  # noqa: E402
from envparity.store import save as store_save  # noqa: E402

PER_WORKER = 25
ENVIRONMENTS = 4


def main() -> None:
    url, worker, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    snaps = [
        make_snapshot(
            env=(worker * PER_WORKER + j) % ENVIRONMENTS,
            seq=worker * PER_WORKER + j,
            host=f"w{worker}",
            snapshot_id=f"w{worker:02d}s{j:02d}" + os.urandom(8).hex(),
        )
        for j in range(PER_WORKER)
    ]
    while not os.path.exists(go):
        time.sleep(0.005)
    if worker % 2:
        # Odd workers save as `envparity snapshot` does: stdlib sqlite3 when the schema is
        # there, else open_store (which migrates). Writers of both kinds share the file.
        def save(snap: Snapshot) -> bool:
            return store_save(snap, url)[0]

        first = [save(s) for s in snaps]
        replay = [save(s) for s in snaps[:5]]
    else:
        # Every worker opens (and on a fresh SQLite file, migrates) at the same moment.
        with open_store(url) as store:
            first = [store.save(s) for s in snaps]
            replay = [store.save(s) for s in snaps[:5]]
    print(json.dumps({"ids": [s.snapshot_id for s in snaps], "first": first, "replay": replay}))


if __name__ == "__main__":
    main()
