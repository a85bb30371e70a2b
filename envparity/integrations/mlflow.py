"""MLflow: attach a snapshot to a run, and read it back as a ref.

``log_snapshot()`` logs the snapshot JSON as the run artifact ``envparity/snapshot.json`` and
its fingerprint, role and snapshot id (and, given a baseline, the drift verdict) as run tags.
``mlflow:runs:/<run id>`` and ``mlflow:models:/<name>/<version>`` (or ``@<alias>``) name that
artifact wherever envparity takes a ref. Needs ``pip install 'envparity[mlflow]'``
(mlflow-skinny, Python 3.10+); MLflow is imported only here, only when used.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from ..errors import EXIT_STORE, BadInput, EnvparityError

if TYPE_CHECKING:
    from ..model import DriftReport, Snapshot
    from ..policy import Policy

ARTIFACT = "envparity/snapshot.json"
PREFIX = "mlflow:"
TAG_PREFIX = "envparity."


class MlflowError(EnvparityError):
    """MLflow is missing, or the tracking server or its artifacts cannot be read."""

    exit_code = EXIT_STORE


def _client() -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MlflowError(
            "MLflow is not installed; pip install 'envparity[mlflow]' (needs Python 3.10+)"
        ) from None
    return MlflowClient()


def _active_run_id() -> str:
    import mlflow

    run = mlflow.active_run()
    if run is None:
        raise BadInput("no MLflow run is active; give run_id= or call inside mlflow.start_run()")
    return str(run.info.run_id)


def log_snapshot(
    snapshot: Optional[Snapshot] = None,
    run_id: Optional[str] = None,
    *,
    baseline: Union[Snapshot, str, None] = None,
    policy: Optional[Policy] = None,
) -> Dict[str, str]:
    """Log ``snapshot`` (default: one captured now) to run ``run_id`` (default: the active run).

    Returns the tags set: ``envparity.fingerprint``, ``envparity.role``,
    ``envparity.snapshot_id``, and with a ``baseline`` (a snapshot or a ref)
    ``envparity.baseline`` and ``envparity.verdict`` (none, info, warning or error).
    """
    client = _client()
    if snapshot is None:
        from .. import snapshot as capture

        snapshot = capture(role="training")
    run_id = run_id or _active_run_id()
    tags = {
        f"{TAG_PREFIX}fingerprint": snapshot.fingerprint,
        f"{TAG_PREFIX}role": snapshot.role,
        f"{TAG_PREFIX}snapshot_id": snapshot.snapshot_id,
    }
    if baseline is not None:
        report = _report(baseline, snapshot, policy)
        tags[f"{TAG_PREFIX}baseline"] = report.baseline.ref
        tags[f"{TAG_PREFIX}verdict"] = report.verdict
    try:
        client.log_text(run_id, snapshot.model_dump_json(indent=2) + "\n", ARTIFACT)
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
    except Exception as e:  # MlflowException and the transports' errors
        raise MlflowError(f"MLflow run {run_id}: cannot log the snapshot ({_why(e)})") from None
    return tags


def _report(baseline: Union[Snapshot, str], snapshot: Snapshot, policy: Any) -> DriftReport:
    from ..comparison import compare as diff
    from ..refs import resolve

    ref = baseline if isinstance(baseline, str) else baseline.snapshot_id
    base = resolve(baseline) if isinstance(baseline, str) else baseline
    return diff(base, snapshot, policy, baseline_ref=ref)


def _why(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _run_id(client: Any, target: str, ref: str) -> str:
    """The run behind ``runs:/<id>`` or a registered model version's run."""
    if target.startswith("runs:/"):
        run_id = target[len("runs:/") :].strip("/").split("/", 1)[0]
        if not run_id:
            raise BadInput(f"{ref}: no run id; write mlflow:runs:/<run id>")
        return run_id
    if target.startswith("models:/"):
        rest = target[len("models:/") :].strip("/")
        if "@" in rest:
            name, _, alias = rest.partition("@")
            version = client.get_model_version_by_alias(name, alias)
        else:
            name, _, number = rest.rpartition("/")
            if not name or not number:
                raise BadInput(f"{ref}: write mlflow:models:/<name>/<version> or /<name>@<alias>")
            version = client.get_model_version(name, number)
        if version.run_id:
            return str(version.run_id)
        model_id = getattr(version, "model_id", None)
        if model_id:  # MLflow 3: a version of a logged model, which records its source run
            run_id = client.get_logged_model(model_id).source_run_id
            if run_id:
                return str(run_id)
        raise BadInput(f"{ref}: that model version has no run to read a snapshot from")
    raise BadInput(
        f"{ref}: unknown MLflow ref; write mlflow:runs:/<run id> or "
        "mlflow:models:/<name>/<version>"
    )


def load_ref(ref: str) -> Snapshot:
    """The snapshot that ``log_snapshot`` attached to the run ``ref`` names."""
    from ..refs import load_file

    client = _client()
    target = ref[len(PREFIX) :]
    try:
        run_id = _run_id(client, target, ref)
        with tempfile.TemporaryDirectory(prefix="envparity-mlflow-") as tmp:
            path = client.download_artifacts(run_id, ARTIFACT, tmp)
            if os.path.isdir(path):  # the artifact is a file; a directory means it is missing
                raise FileNotFoundError(path)
            snap: Snapshot = load_file(path)
            return snap
    except EnvparityError as e:
        if isinstance(e, BadInput) and str(e).startswith(ref):
            raise
        raise BadInput(f"{ref}: {e}") from None
    except Exception as e:
        why = _why(e)
        if isinstance(e, (OSError, FileNotFoundError)) or "not found" in why.lower() or (
            "RESOURCE_DOES_NOT_EXIST" in str(getattr(e, "error_code", ""))
        ):
            raise BadInput(
                f"{ref}: no envparity snapshot there ({why}); log one with "
                "envparity.integrations.mlflow.log_snapshot()"
            ) from None
        raise MlflowError(f"{ref}: cannot read from MLflow ({why})") from None
