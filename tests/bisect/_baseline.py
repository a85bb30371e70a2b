"""Write a baseline snapshot of ``--python PY`` with its probe outputs stored, as a test fixture.

Run in a child process whose environment is the baseline's (TZ and the like):
``python _baseline.py PY OUT MODULE...``. The probes run inside PY through bisect's own trial
child, so PY needs neither envparity nor pydantic.
"""

from __future__ import annotations

import sys
from typing import List


def main(python: str, out: str, modules: List[str]) -> None:
    from envparity.bisect.overlay import Overlays
    from envparity.bisect.symptom import numeric_results
    from envparity.bisect.trial import Trials
    from envparity.collect.capture import capture

    snap = capture(python=python, role="training")
    if not modules:  # benchmarks only: the interpreter is what a bisect interleaves with
        with open(out, "w", encoding="utf-8") as f:
            f.write(snap.model_dump_json(indent=2))
        return
    overlays = Overlays(python)
    trials = Trials(python, {}, overlays, probes=modules)
    status, detail, answer, _ = trials.child(frozenset())
    trials.close()
    overlays.remove()
    assert status == "ok", detail
    numerics = numeric_results(answer["probes"])
    snap = snap.model_copy(update={"numerics": numerics})
    with open(out, "w", encoding="utf-8") as f:
        f.write(snap.model_dump_json(indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
