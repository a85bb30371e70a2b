"""Model artifacts: what a pickle, joblib, torch, ONNX or MLflow model needs, read without loading
it; malicious, truncated and foreign files are one clear line and exit 2."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
from _stacks import stack_env
from _support import isolated_env, run_cli

from envparity.errors import BadInput
from envparity.relevance import artifacts, pickles


class _Planted:
    """Unpickling this runs ``touch`` on a path: the scanner must never do it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class _Sneaky:
    """The same through a callable no deny-list names: scanned, never called."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.fixture
def cli_env(tmp_path):
    return isolated_env(tmp_path, tmp_path / "home")


def test_a_malicious_pickle_is_never_executed_and_is_exit_2(tmp_path, cli_env):
    planted = tmp_path / "planted"
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps({"model": _Planted(planted)}))
    with pytest.raises(pickles.PickleProblem, match="unsafe pickle: loading it would call"):
        artifacts.inspect(str(model))
    out = tmp_path / "snap.json"
    done = run_cli("snapshot", "--no-store", "--model", str(model), "-o", str(out), env=cli_env)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "model.pkl: unsafe pickle" in done.stderr and "system" in done.stderr
    assert not planted.exists() and not out.exists()


def test_a_callable_no_list_names_is_still_never_called(tmp_path):
    planted = tmp_path / "planted"
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps([_Sneaky(planted)]))
    (record,) = artifacts.inspect(str(model))
    assert "pathlib.Path.touch" in record["globals"]
    assert not planted.exists()


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_every_protocol_names_its_globals(tmp_path, protocol):
    model = tmp_path / "model.pkl"
    value = {"d": OrderedDict(a=1), "p": Path("x"), "b": b"\0" * 10000, "t": (1, 2.5, "s")}
    model.write_bytes(pickle.dumps(value, protocol=protocol))
    scan = pickles.scan_file(str(model))
    assert "collections.OrderedDict" in scan.globals
    assert any(g.startswith("pathlib.") for g in scan.globals)


def test_a_truncated_pickle_is_one_line_and_exit_2(tmp_path, cli_env):
    data = pickle.dumps({"d": OrderedDict(a=list(range(1000)))}, protocol=4)
    model = tmp_path / "model.pkl"
    model.write_bytes(data[: len(data) // 2])
    with pytest.raises(pickles.PickleProblem, match="truncated pickle"):
        artifacts.inspect(str(model))
    done = run_cli("snapshot", "--no-store", "--model", str(model), env=cli_env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "model.pkl: truncated pickle" in done.stderr
    assert "Traceback" not in done.stderr


def test_not_a_pickle_and_a_missing_path_are_exit_2(tmp_path, cli_env):
    text = tmp_path / "notes.pkl"
    text.write_text("hello world\n")
    done = run_cli("snapshot", "--no-store", "--model", str(text), env=cli_env)
    assert done.returncode == 2 and "notes.pkl: not a pickle" in done.stderr, done.stderr
    done = run_cli("snapshot", "--no-store", "--model", str(tmp_path / "nope"), env=cli_env)
    assert done.returncode == 2 and "no such model file" in done.stderr, done.stderr


def test_a_large_inline_payload_is_skipped_not_read(tmp_path):
    model = tmp_path / "big.pkl"
    with open(model, "wb") as f:
        pickle.dump({"weights": b"\1" * (64 << 20), "cls": OrderedDict}, f, protocol=4)
    import tracemalloc

    tracemalloc.start()
    scan = pickles.scan_file(str(model))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "collections.OrderedDict" in scan.globals
    assert peak < 8 << 20  # the 64 MiB payload was never held


def _torch_like(path: Path) -> None:
    # A torch zip checkpoint's layout: archive/data.pkl plus tensor storages in archive/data/.
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(OrderedDict(w=Path("x")), protocol=2))
        z.writestr("archive/data/0", b"\0" * 4096)
        z.writestr("archive/version", "3\n")


def test_torch_zip_checkpoint_reads_its_data_pkl(tmp_path):
    ckpt = tmp_path / "model.pt"
    _torch_like(ckpt)
    (record,) = artifacts.inspect(str(ckpt))
    assert record["kind"] == "torch"
    assert "collections.OrderedDict" in record["globals"]


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _onnx(path: Path) -> None:
    opset = _field(1, b"") + _varint(2 << 3) + _varint(17)
    ml = _field(1, b"ai.onnx.ml") + _varint(2 << 3) + _varint(3)
    graph = _field(1, b"node" * 1000)
    path.write_bytes(
        _varint(1 << 3) + _varint(8)
        + _field(2, b"skl2onnx") + _field(3, b"1.16.0")
        + _field(7, graph) + _field(8, opset) + _field(8, ml)
    )


def test_onnx_opsets_and_producer(tmp_path):
    model = tmp_path / "model.onnx"
    _onnx(model)
    (record,) = artifacts.inspect(str(model))
    assert record["opsets"] == {"ai.onnx": 17, "ai.onnx.ml": 3}
    assert record["producer"] == "skl2onnx 1.16.0" and record["ir_version"] == 8
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x0a\x05ab")
    with pytest.raises(BadInput, match="bad.onnx: not an ONNX model"):
        artifacts.inspect(str(bad))


def test_mlflow_directory_requirements_flavors_and_files(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text(
        "artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n"
        "  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.3.2\n"
    )
    (model / "requirements.txt").write_text("mlflow==2.9\npackaging>=20\n# comment\n")
    (model / "conda.yaml").write_text(
        "channels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\n- pip:\n"
        "  - mlflow==2.9\n  - psutil==5.9\n"
    )
    (model / "python_env.yaml").write_text("python: 3.11.7\nbuild_dependencies:\n- pip\n")
    (model / "model.pkl").write_bytes(pickle.dumps(OrderedDict()))
    first, second = artifacts.inspect(str(model))
    assert first["kind"] == "mlflow" and first["flavors"] == ["python_function", "sklearn"]
    assert "packaging>=20" in first["requirements"] and "psutil==5.9" in first["requirements"]
    assert first["python"] == "3.11.7"
    assert "packaging" in first["needs"] and "psutil" in first["needs"]
    assert second["path"].endswith("model.pkl") and second["kind"] == "pickle"


JOBLIB = """
import sys, joblib, numpy as np
from sklearn.linear_model import LogisticRegression
X = np.random.RandomState(0).rand(50, 3)
m = LogisticRegression().fit(X, X[:, 0] > 0.5)
obj = {"m": m, "big": np.zeros((300, 300)), "o": np.array(["a", None], dtype=object),
       "rec": np.zeros(3, dtype=[("a", "f8"), ("b", "i4")])}
for name, how in [("plain", 0), ("zlib", 3), ("gzip", ("gzip", 3)), ("bz2", ("bz2", 3)),
                  ("xz", ("xz", 3)), ("lzma", ("lzma", 3))]:
    joblib.dump(obj, sys.argv[1] + "/" + name + ".joblib", compress=how)
import cloudpickle
with open(sys.argv[1] + "/cloud.pkl", "wb") as f:
    f.write(cloudpickle.dumps({"f": lambda x: x + 1, "m": m}))
"""


def test_joblib_plain_and_compressed_skip_arrays_and_read_object_arrays(tmp_path, stack_np1):
    done = subprocess.run(
        [str(stack_np1.python), "-c", JOBLIB, str(tmp_path)],
        env=stack_env(), capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    kinds = {}
    for name in ("plain", "zlib", "gzip", "bz2", "xz", "lzma"):
        scan_path = str(tmp_path / f"{name}.joblib")
        (record,) = artifacts.inspect(scan_path)
        kinds[name] = record["kind"]
        assert "sklearn.linear_model._logistic.LogisticRegression" in record["globals"]
        assert "joblib.numpy_pickle.NumpyArrayWrapper" in record["globals"]
    assert kinds["plain"] == "joblib" and kinds["zlib"] == "joblib (zlib)"
    assert kinds["gzip"] == "joblib (gzip)" and kinds["xz"] == "joblib (xz)"
    # cloudpickle: a pickled lambda names cloudpickle's own helpers, never runs.
    (record,) = artifacts.inspect(str(tmp_path / "cloud.pkl"))
    assert any(g.startswith("cloudpickle.") for g in record["globals"])
    assert "sklearn.linear_model._logistic.LogisticRegression" in record["globals"]


def test_snapshot_json_carries_the_record_and_the_hook_cache(tmp_path, cli_env):
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(OrderedDict(a=io.BytesIO.__name__)))
    out = tmp_path / "snap.json"
    done = run_cli(
        "snapshot", "--no-store", "--model", str(model), "-o", str(out), env=cli_env
    )
    assert done.returncode == 0, done.stderr
    rel = json.loads(out.read_text())["relevance"]
    assert rel["loaded"] is None  # a CLI snapshot is not the training process
    (record,) = rel["models"]
    assert record["path"] == str(model) and record["size"] == model.stat().st_size
    cache = Path(cli_env["ENVPARITY_HOME"]) / "models" / "models.json"
    kept = json.loads(cache.read_text())
    assert any(k.startswith(str(model.resolve()) + "|") for k in kept)



def test_an_mlflow_models_ref_is_fetched_and_read(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="the MLflow ref needs mlflow (test extra)")
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
    (model / "requirements.txt").write_text("packaging>=20\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model), artifact_path="model")
    mlflow.register_model(f"runs:/{run.info.run_id}/model", "fraud")
    (record,) = artifacts.inspect("mlflow:models:/fraud/1")
    assert record["path"] == "mlflow:models:/fraud/1" and record["kind"] == "mlflow"
    assert record["flavors"] == ["sklearn"] and "packaging" in record["needs"]
    with pytest.raises(BadInput, match="mlflow:models:/nope/1: MLflow could not fetch"):
        artifacts.inspect("mlflow:models:/nope/1")


def test_model_with_python_is_refused_and_the_api_raises_bad_input(tmp_path, cli_env):
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(OrderedDict()))
    done = run_cli(
        "snapshot", "--no-store", "--model", str(model), "--python", sys.executable, env=cli_env
    )
    assert done.returncode == 2 and "--model with --python" in done.stderr, done.stderr
    import envparity

    model.write_bytes(b"\x80\x04")
    with pytest.raises(BadInput, match="truncated pickle"):
        envparity.snapshot(model=str(model))


def test_pyproject_model_and_environment_variable(tmp_path, cli_env):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.pkl").write_bytes(pickle.dumps(OrderedDict()))
    (tmp_path / "pyproject.toml").write_text('[tool.envparity]\nmodel = ["models/model.pkl"]\n')
    out = tmp_path / "a.json"
    done = run_cli("snapshot", "--no-store", "-o", str(out), env=cli_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())["relevance"]["models"]
    assert record["path"] == str(tmp_path / "models" / "model.pkl")
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps([OrderedDict()]))
    env = dict(cli_env, ENVPARITY_MODEL=str(other))
    done = run_cli("snapshot", "--no-store", "-o", str(out), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())["relevance"]["models"]
    assert record["path"] == str(other)  # the variable wins over the pyproject
