"""What a model artifact needs: pickle, joblib (plain or compressed), torch, ONNX, MLflow.

:func:`inspect` turns a path (a file, a directory of them, an MLflow model directory, or an
``mlflow:models:/...`` ref) into artifact records, plain JSON data shaped like
``envparity.model.ModelArtifact``: path, kind, sha256, size, the globals a pickle references,
and ``needs`` (installed distribution -> why: the global it owns, or ``required by X``).
Nothing is unpickled or imported from the model: see :mod:`.pickles`.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import sys
import zipfile
import zlib
from typing import IO, Any, Dict, FrozenSet, List, Optional, Tuple

from ..errors import BadInput
from . import distributions, pickles

#: Leading bytes of joblib's compressed files (joblib.compressor) -> compressor.
_COMPRESSED: Tuple[Tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"ZF", "zlib-legacy"),
)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".sav", ".p")
_MODEL_SUFFIXES = _PICKLE_SUFFIXES + (".onnx", ".gz", ".bz2", ".xz", ".lzma", ".z")
_ONNX_RUNTIMES = ("onnxruntime", "onnxruntime-gpu", "onnx")


class _Zlib:
    """A forward-only reader over a zlib stream (joblib's default compressor writes one)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.d = zlib.decompressobj()
        self.buf = b""

    def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            raw = self.f.read(1 << 16)
            if not raw:
                self.buf += self.d.flush()
                return
            self.buf += self.d.decompress(raw, max(n - len(self.buf), 1 << 16))
            while self.d.unconsumed_tail and len(self.buf) < n:
                self.buf += self.d.decompress(self.d.unconsumed_tail, 1 << 16)

    def read(self, n: int) -> bytes:
        self._fill(n)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def readline(self, limit: int) -> bytes:
        out = b""
        while len(out) < limit:
            c = self.read(1)
            if not c:
                break
            out += c
            if c == b"\n":
                break
        return out

    def close(self) -> None:
        self.f.close()

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self.buf[:n]


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    buf = bytearray(1 << 22)  # one reused 4 MiB buffer: no allocation per chunk
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return h.hexdigest()
            h.update(view[:n])


def _needs(globals_: List[str], extra: Optional[Dict[str, str]] = None) -> Tuple[
    Dict[str, str], List[str]
]:
    """Distributions the globals' modules belong to (with the closure over Requires-Dist), and
    the top-level modules no installed distribution owns (the standard library left out)."""
    owners = distributions.module_owners()
    stdlib: FrozenSet[str] = getattr(sys, "stdlib_module_names", frozenset())
    direct: Dict[str, str] = dict(extra or {})
    unresolved: List[str] = []
    for top, first in pickles.modules_of(set(globals_)):
        names = owners.get(top)
        if names:
            for name in names:
                direct.setdefault(name, first)
        elif top not in stdlib and top not in sys.builtin_module_names and top not in (
            "__builtin__", "copy_reg", "?"
        ):
            unresolved.append(top)
    return distributions.closure(direct), unresolved


def _record(path: str, kind: str, shown: str) -> Dict[str, Any]:
    try:
        size = os.path.getsize(path)
        digest = _sha256(path)
    except OSError as e:
        raise BadInput(f"{shown}: cannot read the model file ({e.strerror or e})") from None
    return {"path": shown, "kind": kind, "sha256": digest, "size": size}


def _open_compressed(path: str, how: str, shown: str) -> IO[bytes]:
    if how == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if how == "bz2":
        return bz2.open(path, "rb")
    if how in ("xz", "lzma"):
        return lzma.open(path, "rb")
    if how == "zlib":
        return _Zlib(open(path, "rb"))  # type: ignore[return-value]
    raise BadInput(
        f"{shown}: {how}-compressed joblib file: envparity reads zlib, gzip, bz2, xz and lzma "
        "ones; save it with one of those (joblib.dump(..., compress=('zlib', 3)))"
    )


def _pickle(path: str, shown: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise BadInput(f"{shown}: cannot read the model file ({e.strerror or e})") from None
    record = _record(path, "pickle", shown)
    if head[:1] == b"\x78":  # a zlib header: joblib's default compressor
        how: Optional[str] = "zlib"
    else:
        how = next((name for magic, name in _COMPRESSED if head.startswith(magic)), None)
    if how is None:
        scan = pickles.scan_file(path, shown)
        if any(g.startswith(("joblib.", "sklearn.externals.joblib.")) for g in scan.globals):
            record["kind"] = "joblib"
    else:
        record["kind"] = f"joblib ({how})"
        stream = _open_compressed(path, how, shown)
        try:
            scan = pickles.scan_stream(stream, shown)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as e:
            raise pickles.PickleProblem(
                f"{shown}: corrupt {how} stream ({e}): copy or save the model again"
            ) from None
        finally:
            stream.close()
    record["globals"] = sorted(scan.globals)
    record["needs"], record["unresolved"] = _needs(record["globals"])
    return record


def _torch(path: str, shown: str) -> Dict[str, Any]:
    record = _record(path, "torch", shown)
    try:
        with zipfile.ZipFile(path) as z:
            members = [n for n in z.namelist() if n.endswith("data.pkl")]
            if not members:
                raise BadInput(f"{shown}: a zip file without a torch data.pkl: not a model")
            found: set = set()
            for member in members:
                with z.open(member) as f:
                    scan = pickles.scan_stream(f, f"{shown}:{member}")  # type: ignore[arg-type]
                found |= scan.globals
    except (zipfile.BadZipFile, OSError) as e:
        raise BadInput(f"{shown}: unreadable torch checkpoint ({e})") from None
    record["globals"] = sorted(found)
    record["needs"], record["unresolved"] = _needs(record["globals"])
    return record


def _varint(data: IO[bytes]) -> Optional[int]:
    shift = result = 0
    while True:
        b = data.read(1)
        if not b:
            return None if shift == 0 else result
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(f: IO[bytes], end: Optional[int]) -> List[Tuple[int, Any]]:
    """Top-level fields of a protobuf message: varints kept, length-delimited fields of number
    2, 3, 4 or 8 read (names and the small opset messages), the rest skipped unread."""
    out: List[Tuple[int, Any]] = []
    while end is None or f.tell() < end:
        key = _varint(f)
        if key is None:
            break
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, _varint(f)))
        elif wire == 2:
            n = _varint(f) or 0
            if number in (1, 2, 3, 4, 8) and n < 4096:
                out.append((number, f.read(n)))
            else:
                f.seek(n, os.SEEK_CUR)  # the graph and initializers: most of the file
        elif wire == 1:
            f.seek(8, os.SEEK_CUR)
        elif wire == 5:
            f.seek(4, os.SEEK_CUR)
        else:
            raise ValueError(f"wire type {wire}")
    return out


def _onnx(path: str, shown: str) -> Dict[str, Any]:
    # The onnx package is not a dependency (it pulls protobuf and a C++ extension); ModelProto's
    # few top-level fields needed here (ir_version 1, producer_name 2, producer_version 3,
    # opset_import 8 with domain 1 and version 2) are read with a small varint reader instead.
    import io

    record = _record(path, "onnx", shown)
    try:
        with open(path, "rb") as f:
            fields = _fields(f, None)
        opsets: Dict[str, int] = {}
        producer = version = ""
        for number, value in fields:
            if number == 1 and isinstance(value, int):
                record["ir_version"] = value
            elif number == 2:
                producer = value.decode("utf-8", "replace")
            elif number == 3:
                version = value.decode("utf-8", "replace")
            elif number == 8:
                sub = dict(_fields(io.BytesIO(value), len(value)))
                domain = sub.get(1, b"").decode("utf-8", "replace") or "ai.onnx"
                opsets[domain] = int(sub.get(2) or 0)
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{shown}: not an ONNX model ({e})") from None
    if not opsets:
        raise BadInput(f"{shown}: not an ONNX model (no opset_import): give an .onnx file")
    record["producer"] = f"{producer} {version}".strip() or None
    record["opsets"] = dict(sorted(opsets.items()))
    runtimes = {n: "runs ONNX models" for n in _ONNX_RUNTIMES if distributions.installed(n)}
    record["needs"] = distributions.closure(runtimes)
    record["unresolved"] = []
    return record


def _mlmodel_flavors(text: str) -> List[str]:
    # MLmodel is YAML; PyYAML is not a dependency, and only the keys directly under `flavors:`
    # (two-space indented) are needed.
    flavors: List[str] = []
    inside = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            inside = line.rstrip() == "flavors:"
            continue
        if inside and line[indent:].rstrip().endswith(":") and indent == 2:
            flavors.append(line.strip()[:-1])
    return flavors


def _requirement_names(lines: List[str]) -> Dict[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement

    out: Dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        out[distributions.normalize(req.name)] = str(req)
    return out


def _conda_pip(text: str) -> List[str]:
    """The items of conda.yaml's ``- pip:`` list (indented under it)."""
    items: List[str] = []
    under: Optional[int] = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if item.startswith("- pip:"):
            under = indent
        elif under is not None and item.startswith("- ") and indent > under:
            items.append(item[2:].strip().strip("'\""))
        elif item:
            under = None
    return items


def _mlflow(directory: str, shown: str) -> Dict[str, Any]:
    def read(name: str) -> str:
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                return f.read()
        except OSError:
            return ""

    record: Dict[str, Any] = {"path": shown, "kind": "mlflow", "sha256": None, "size": None}
    record["flavors"] = _mlmodel_flavors(read("MLmodel"))
    requirements = _requirement_names(read("requirements.txt").splitlines())
    pip = _conda_pip(read("conda.yaml"))
    for name, spec in _requirement_names(pip).items():
        requirements.setdefault(name, spec)
    for line in read("python_env.yaml").splitlines():
        if line.startswith("python:"):
            record["python"] = line.split(":", 1)[1].strip().strip("'\"")
    record["requirements"] = sorted(requirements.values())
    direct = {
        name: f"in its requirements ({spec})"
        for name, spec in requirements.items()
        if distributions.installed(name)
    }
    record["needs"] = distributions.closure(direct)
    record["unresolved"] = sorted(n for n in requirements if not distributions.installed(n))
    return record


def _kind(path: str) -> Optional[str]:
    if os.path.isdir(path):
        return "mlflow" if os.path.isfile(os.path.join(path, "MLmodel")) else "directory"
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise BadInput(f"{path}: cannot read the model file ({e.strerror or e})") from None
    if head.startswith(b"PK\x03\x04"):
        return "torch"
    if path.lower().endswith(".onnx"):
        return "onnx"
    return "pickle"


def _one(path: str, shown: str, kind: str) -> Dict[str, Any]:
    if kind == "torch":
        return _torch(path, shown)
    if kind == "onnx":
        return _onnx(path, shown)
    return _pickle(path, shown)


def _mlflow_ref(ref: str) -> str:
    uri = ref[len("mlflow:"):]
    try:
        from mlflow.artifacts import download_artifacts
    except ImportError:
        raise BadInput(
            f"{ref}: reading an MLflow model ref needs mlflow installed (pip install mlflow), "
            "or give the downloaded model directory"
        ) from None
    try:
        return str(download_artifacts(artifact_uri=uri))
    except Exception as e:  # noqa: BLE001 - MLflow raises many types; the message names it
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise BadInput(f"{ref}: MLflow could not fetch the model: {first}") from None


def inspect(path: str) -> List[Dict[str, Any]]:
    """The artifact records of ``path``: a model file, a directory (each model file in it), an
    MLflow model directory (its requirements and flavors, then its files) or an
    ``mlflow:models:/...`` ref. A problem is a :class:`~envparity.errors.BadInput`."""
    shown = path
    if path.startswith("mlflow:"):
        path = _mlflow_ref(path)
    if not os.path.exists(path):
        raise BadInput(f"{shown}: no such model file or directory; give the path --model reads")
    kind = _kind(path)
    if kind not in ("mlflow", "directory"):
        assert kind is not None
        return [_one(path, shown, kind)]
    records: List[Dict[str, Any]] = []
    if kind == "mlflow":
        records.append(_mlflow(path, shown))
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith(_MODEL_SUFFIXES):
                continue
            full = os.path.join(root, name)
            rel = os.path.join(shown, os.path.relpath(full, path))
            records.append(_one(full, rel, _kind(full) or "pickle"))
    if not records:
        raise BadInput(
            f"{shown}: a directory with no model file in it (looked for "
            f"{', '.join(_MODEL_SUFFIXES)} and an MLflow MLmodel)"
        )
    return records
