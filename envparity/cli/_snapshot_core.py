"""What ``envparity snapshot`` does once its options are parsed, without Typer.

The Typer command (:mod:`.snapshot`) and the fast path (:mod:`._lean`) both call these, so a
well-formed ``snapshot --no-store`` behaves the same whichever parsed it.
"""

import json
import sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ._out import note, recorded_labels, write_atomic

if TYPE_CHECKING:
    from ..pipeline import SnapshotRequest


def snapshot_request(
    *,
    role: str,
    labels: Optional[List[str]],
    python: Optional[str],
    models: List[str],
    frameworks: bool = False,
    suite: Optional[str] = None,
    numerics: Optional[bool] = None,
    callables: Sequence[str] = (),
    probes: Optional[List[str]] = None,
) -> "SnapshotRequest":
    """The request ``snapshot``'s options make: ``--label`` merged with ENVPARITY_LABELS, the
    ``--probes`` modules (else ENVPARITY_PROBES') with the policy's."""
    from ..parity.loading import collect_modules, env_probes
    from ..pipeline import SnapshotRequest

    modules = list(probes or env_probes())
    return SnapshotRequest(
        role=role,
        labels=recorded_labels(labels),
        python=python,
        frameworks=frameworks,
        suite=suite,
        numerics=numerics,
        callables=tuple(callables),
        probe_modules=tuple(collect_modules(modules)) if modules else (),
        models=tuple(models),
    )


def write_data(
    request: "SnapshotRequest", models: List[str], output: Optional[str], to_stdout: bool
) -> None:
    """A snapshot taken and written, not stored, nothing measured: the probes' JSON data as it
    is, without building the pydantic models (their import and schema build cost more than the
    capture itself)."""
    from ..pipeline import take_data

    data = take_data(request)
    remember_models(models, data.get("relevance"))
    emit(json.dumps(data, indent=2, ensure_ascii=False), output, to_stdout)
    summary_line(
        data["snapshot_id"],
        data["fingerprint"],
        len(data["packages"]),
        data["collection"]["errors"],
        output,
        stored="",
    )


def model_list(given: Optional[List[str]]) -> List[str]:
    import os

    from ..relevance.record import model_paths, policy_models

    return model_paths(given or (), os.environ) or (policy_models() if given is None else [])


def remember_models(models: List[str], relevance: Optional[Dict[str, Any]]) -> None:
    """Keep each model's record for the start-up hook (keyed by path, size and mtime): a
    `snapshot --model` at image build time spares the server scanning it at start-up."""
    if not models or not relevance:
        return
    import os

    from ..relevance.record import remember

    records = relevance.get("models") or []
    for path in models:
        mine = [r for r in records if str(r.get("path", "")).startswith(path)]
        remember(path, mine, os.environ)


def emit(text: str, output: Optional[str], to_stdout: bool) -> None:
    if output:
        write_atomic(output, text + "\n")
    if to_stdout:
        sys.stdout.write(text + "\n")


def summary_line(
    snapshot_id: str,
    fingerprint: str,
    packages: int,
    errors: List[Dict[str, Any]],
    output: Optional[str],
    stored: str,
) -> None:
    """One line on stderr (stdout may carry the JSON), then one line per probe error."""
    from ..wording import count

    where = (f", written to {output}" if output else "") + stored
    note(
        f"snapshot {snapshot_id[:12]} fingerprint {fingerprint[:12]}: "
        f"{count(packages, 'package')}, {count(len(errors), 'probe error')}{where}"
    )
    for failure in errors:
        place = f" ({failure['path']})" if failure.get("path") else ""
        sys.stderr.write(f"  probe {failure['probe']}: {failure['message']}{place}\n")
