"""A probe's output as one canonical byte string, stored whole (compressed) and decoded back.

Any output a probe returns -- a number, a (nested) list of numbers, a NumPy array (structured or
not), a torch tensor, a mapping of column name to values, a list of records, a pandas DataFrame or
Series -- becomes a list of named :class:`Column` objects and a ``form`` (``scalar``, ``array``,
``table``). The encoding is a small JSON header (form, then each column's name, kind, dtype and
shape) followed by each column's data: raw little-endian bytes for numbers, booleans and times,
UTF-8 JSON for strings and categories. ``sha256`` of those bytes is the output's content key;
zlib at level 1 (fast: the output is encoded in the snapshot's time) compresses them.

pandas is never imported here: a DataFrame is recognised by its class's module. NumPy is imported
only for an output that is already a NumPy (or torch) object, or to decode numeric columns when it
is installed; without it, numbers decode through :mod:`struct`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import struct
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_BYTES_ENV = "ENVPARITY_PROBE_MAX_BYTES"
_MAGIC = b"EPO1"
_PROBE_BYTES = 16 * 1024  # the slice of a large output tried before compressing it whole

# Column kinds: numbers compare within tolerance ("float", "complex"); everything else exactly.
EXACT_KINDS = frozenset({"int", "uint", "bool", "str", "category", "time"})
_NUMPY_KIND = {"f": "float", "c": "complex", "i": "int", "u": "uint", "b": "bool"}
_STRUCT = {
    "f2": "e",
    "f4": "f",
    "f8": "d",
    "i1": "b",
    "i2": "h",
    "i4": "i",
    "i8": "q",
    "u1": "B",
    "u2": "H",
    "u4": "I",
    "u8": "Q",
    "b1": "?",
    "c8": "f",
    "c16": "d",
}


@dataclass
class Column:
    """One named column of an output. ``data`` is an ndarray (numbers) or a list (strings)."""

    name: str
    kind: str  # float, complex, int, uint, bool, time, str, category
    dtype: str
    shape: List[int]
    data: Any
    categories: Optional[List[Optional[str]]] = None
    #: "" for values; "index" for a pandas index level (compared exactly: labels, not results).
    role: str = ""

    @property
    def rows(self) -> int:
        return self.shape[0] if self.shape else 1


@dataclass
class Output:
    """A decoded (or freshly normalised) output: its form and its columns."""

    form: str  # scalar, array, table
    columns: List[Column] = field(default_factory=list)
    #: A pandas output's labels: its index and column-label names and dtypes (None otherwise,
    #: and in outputs encoded before labels were recorded).
    labels: Optional[Dict[str, Any]] = None

    def describe(self) -> str:
        """``float64[10000,3]`` for an array, ``table[a:float64,b:category]`` for a table."""
        if self.form == "table":
            inner = ",".join(f"{c.name}:{c.dtype}" for c in self.columns)
            rows = self.columns[0].rows if self.columns else 0
            return f"table[{rows} rows; {inner}]"
        col = self.columns[0]
        return f"{col.dtype}[{','.join(str(d) for d in col.shape)}]"


# --- normalising a probe's return value --------------------------------------------------------


def _is_pandas(value: Any, name: str) -> bool:
    cls = type(value)
    return cls.__name__ == name and cls.__module__.split(".")[0] == "pandas"


def _text(value: Any) -> Optional[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value if isinstance(value, str) else str(value)


def _numpy_column(name: str, array: Any) -> Column:
    np = sys.modules["numpy"]
    kind = array.dtype.kind
    if array.dtype.names:
        raise TypeError(f"column {name!r} is a nested structured array; flatten its fields")
    if kind in _NUMPY_KIND:
        # ascontiguousarray makes a 0-d array 1-d: reshape keeps a scalar a scalar.
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).reshape(array.shape)
        dtype = data.dtype.name if kind != "b" else "bool"
        return Column(name, _NUMPY_KIND[kind], dtype, list(data.shape), data)
    if kind in "Mm":  # datetime64 / timedelta64: exact, as their int64 ticks
        data = np.ascontiguousarray(array).reshape(array.shape).view("<i8")
        return Column(name, "time", str(array.dtype), list(array.shape), data)
    if kind in "USO":
        flat = [
            _text(v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
            for v in array.ravel().tolist()
        ]
        return Column(name, "str", "str", list(array.shape), flat)
    raise TypeError(f"column {name!r} has dtype {array.dtype}, which a probe cannot record")


def _pandas_column(name: str, series: Any) -> Column:
    np = sys.modules["numpy"]
    dtype = series.dtype
    if str(dtype) == "category":
        cats = [_text(c) for c in series.cat.categories.tolist()]
        labels = [_text(v) for v in series.astype(object).tolist()]
        return Column(name, "category", "category", [len(labels)], labels, categories=cats)
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, np.dtype) and kind in "biufcMm":
        return _numpy_column(name, series.to_numpy())
    if kind in "iu" or kind == "f":  # nullable Int64/Float64: missing values as NaN
        return _numpy_column(name, series.to_numpy(dtype="float64", na_value=np.nan))
    if kind == "b":
        return _numpy_column(name, series.to_numpy(dtype="float64", na_value=np.nan))
    return Column(name, "str", "str", [len(series)], [_text(v) for v in series.tolist()])


def _names(index: Any) -> List[Optional[str]]:
    return [None if n is None else str(n) for n in index.names]


def _index_columns(index: Any) -> List[Column]:
    """The index levels of a pandas object as exact columns; none for the default RangeIndex
    (0, 1, 2 ...), which says nothing the row order does not."""
    if type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1:
        if index.name is None:
            return []
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    many = len(levels) > 1
    cols = []
    for i, level in enumerate(levels):
        col = _pandas_column(f"[index {i}]" if many else "[index]", level.to_series())
        col.role = "index"
        cols.append(col)
    return cols


def _pandas_labels(output: Any, kind: str) -> Dict[str, Any]:
    index = output.index
    labels: Dict[str, Any] = {
        "kind": kind,
        "index_names": _names(index),
        "index_dtypes": [str(index.get_level_values(i).dtype) for i in range(index.nlevels)],
    }
    if kind == "DataFrame":
        labels["column_names"] = _names(output.columns)
        labels["column_dtype"] = str(output.columns.dtype)
    else:
        labels["name"] = None if output.name is None else str(output.name)
    return labels


def _list_column(name: str, values: List[Any]) -> Column:
    if all(isinstance(v, bool) for v in values):
        return Column(name, "bool", "bool", [len(values)], _pack("?", values))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        if all(-(2**63) <= v < 2**63 for v in values):
            return Column(name, "int", "int64", [len(values)], _pack("q", values))
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
        floats = [math.nan if v is None else float(v) for v in values]
        return Column(name, "float", "float64", [len(values)], _pack("d", floats))
    return Column(name, "str", "str", [len(values)], [_text(v) for v in values])


def _pack(code: str, values: List[Any]) -> Any:
    np = sys.modules.get("numpy")
    if np is not None:
        dtype = {"?": "bool", "q": "<i8", "d": "<f8"}[code]
        return np.asarray(values, dtype=dtype)
    return struct.pack(f"<{len(values)}{code}", *values)


def _column(name: str, value: Any) -> Column:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if _is_pandas(value, "Series"):
        return _pandas_column(name, value)
    if hasattr(value, "dtype") and hasattr(value, "tobytes"):
        return _numpy_column(name, sys.modules["numpy"].asarray(value))
    if isinstance(value, (list, tuple)):
        return _list_column(name, list(value))
    raise TypeError(f"column {name!r} holds a {type(value).__name__}, not a list or an array")


def _flatten(value: Any, into: List[Any]) -> None:
    if isinstance(value, (list, tuple)):
        for item in value:
            _flatten(item, into)
    else:
        into.append(value)


def normalize(output: Any) -> Output:
    """The :class:`Output` a probe's return value stands for (TypeError when it cannot)."""
    if hasattr(output, "detach") and hasattr(output, "cpu"):  # a torch tensor
        output = output.detach().cpu().numpy()
    if _is_pandas(output, "DataFrame"):
        cols = [_pandas_column(str(n), output.iloc[:, i]) for i, n in enumerate(output.columns)]
        return Output(
            "table", cols + _index_columns(output.index), _pandas_labels(output, "DataFrame")
        )
    if _is_pandas(output, "Series"):
        col = _pandas_column(str(output.name or ""), output)
        return Output("table", [col, *_index_columns(output.index)],
                      _pandas_labels(output, "Series"))
    if hasattr(output, "dtype") and hasattr(output, "tobytes"):  # NumPy array or scalar
        array = sys.modules["numpy"].asarray(output)
        if array.dtype.names:  # structured: one column per field
            return Output("table", [_numpy_column(n, array[n]) for n in array.dtype.names])
        col = _numpy_column("", array)
        return Output("scalar" if not col.shape else "array", [col])
    if isinstance(output, dict):
        if not output:
            raise TypeError("output is an empty mapping")
        return Output("table", [_column(str(k), v) for k, v in output.items()])
    if isinstance(output, (list, tuple)) and output and all(isinstance(r, dict) for r in output):
        names: Dict[str, None] = {}
        for record in output:
            names.update(dict.fromkeys(str(k) for k in record))
        by_str = [{str(k): v for k, v in r.items()} for r in output]
        return Output("table", [_list_column(n, [r.get(n) for r in by_str]) for n in names])
    if isinstance(output, (list, tuple)):
        flat: List[Any] = []
        _flatten(output, flat)
        return Output("array", [_list_column("", flat)])
    if isinstance(output, (bool, int, float, str)) or output is None:
        col = _list_column("", [output])
        col.shape = []
        return Output("scalar", [col])
    raise TypeError(f"output is a {type(output).__name__}, not a number, array, table or list")


# --- the canonical encoding --------------------------------------------------------------------


def _body(col: Column) -> bytes:
    if col.kind in ("str", "category"):
        return json.dumps(col.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    data = col.data
    return data if isinstance(data, bytes) else data.tobytes()


def to_bytes(out: Output) -> bytes:
    """The canonical encoding: magic, header length, JSON header, each column's data."""
    bodies = [_body(c) for c in out.columns]
    header = {
        "form": out.form,
        "columns": [
            {
                "name": c.name,
                "kind": c.kind,
                "dtype": c.dtype,
                "shape": c.shape,
                "size": len(b),
                **({"categories": c.categories} if c.categories is not None else {}),
                **({"role": c.role} if c.role else {}),
            }
            for c, b in zip(out.columns, bodies)
        ],
        **({"labels": out.labels} if out.labels is not None else {}),
    }
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join([_MAGIC, struct.pack("<I", len(head)), head, *bodies])


def from_bytes(payload: bytes) -> Output:
    """Inverse of :func:`to_bytes` (numbers as NumPy arrays when NumPy is installed)."""
    if payload[:4] != _MAGIC:
        raise ValueError("not an envparity probe output (bad magic)")
    (size,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8 : 8 + size].decode("utf-8"))
    at = 8 + size
    np = _numpy()
    cols = []
    for spec in header["columns"]:
        raw = payload[at : at + spec["size"]]
        at += spec["size"]
        kind, dtype, shape = spec["kind"], spec["dtype"], spec["shape"]
        data: Any
        if kind in ("str", "category"):
            data = json.loads(raw.decode("utf-8"))
        elif np is not None:
            np_dtype = "<i8" if kind == "time" else np.dtype(dtype).newbyteorder("<")
            data = np.frombuffer(raw, dtype=np_dtype).reshape(shape)
        else:
            data = _struct_values(kind, dtype, raw)
        cols.append(
            Column(spec["name"], kind, dtype, shape, data, spec.get("categories"),
                   spec.get("role", ""))
        )
    return Output(header["form"], cols, header.get("labels"))


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _struct_values(kind: str, dtype: str, raw: bytes) -> List[Any]:
    """Flat Python values of a numeric column without NumPy (complex as (re, im) pairs)."""
    key = "i8" if kind == "time" else {"bool": "b1"}.get(dtype, dtype[0] + str(_width(dtype)))
    code = _STRUCT.get(key)
    if code is None:
        raise ValueError(f"cannot decode dtype {dtype} without NumPy; install numpy")
    n = len(raw) // struct.calcsize(code)
    values = list(struct.unpack(f"<{n}{code}", raw))
    if kind == "complex":
        return [complex(a, b) for a, b in zip(values[::2], values[1::2])]
    return values


def _width(dtype: str) -> int:
    digits = "".join(ch for ch in dtype if ch.isdigit())
    return int(digits) // 8 if digits else 8


@dataclass
class Encoded:
    """What a snapshot records of one output."""

    sha256: str
    size: int  # uncompressed bytes
    compressed: bytes
    output: Output

    @property
    def text(self) -> str:
        return base64.b64encode(self.compressed).decode("ascii")


def encode(value: Any) -> Encoded:
    """Normalise, encode, digest and compress one probe output."""
    out = normalize(value)
    payload = to_bytes(out)
    digest = hashlib.sha256(payload).hexdigest()
    return Encoded(digest, len(payload), _compress(payload), out)


def _compress(payload: bytes) -> bytes:
    """zlib at level 1, or level 0 (stored blocks, still a zlib stream) when a probe of the data
    shows it barely compresses: the mantissas of computed floats are noise, and zlib spends
    ~20 ms on 240 kB of them to save a few percent."""
    if len(payload) > 4 * _PROBE_BYTES:
        middle = len(payload) // 2
        probe = payload[middle : middle + _PROBE_BYTES]
        if len(zlib.compress(probe, 1)) > 0.9 * len(probe):
            return zlib.compress(payload, 0)
    return zlib.compress(payload, 1)


def decode_text(text: str) -> Output:
    """The output a snapshot's ``output`` field holds."""
    return from_bytes(zlib.decompress(compressed_from_text(text)))


def compressed_from_text(text: str) -> bytes:
    """The compressed bytes of a snapshot's ``output`` field (what the store keeps)."""
    if sys.version_info >= (3, 11):
        # Strict mode is the fast path (no skipping of stray characters): ~1.5x on 300 kB.
        return binascii.a2b_base64(text, strict_mode=True)
    return base64.b64decode(text)


def text_from_compressed(data: bytes) -> str:
    """Inverse of :func:`compressed_from_text`."""
    return base64.b64encode(data).decode("ascii")


def summary(out: Output) -> Tuple[str, List[int]]:
    """``(dtype, shape)`` for the snapshot's legacy fields (a table: ``table`` and its rows)."""
    if out.form == "table":
        return "table", [out.columns[0].rows if out.columns else 0, len(out.columns)]
    col = out.columns[0]
    return col.dtype, list(col.shape)


def sample(out: Output, count: int) -> List[float]:
    """Up to ``count`` evenly spaced values of the first numeric column (partial comparisons)."""
    for col in out.columns:
        if col.kind not in ("float", "int", "uint", "bool"):
            continue
        data = col.data
        if hasattr(data, "ravel"):
            flat: Any = data.ravel()
        elif isinstance(data, bytes):
            flat = _struct_values(col.kind, col.dtype, data)
        else:
            flat = list(data)
        n = len(flat)
        picks = (
            range(n)
            if n <= count
            else sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})
        )
        return [float(flat[i]) for i in picks]
    return []
