"""Check JSON data against a shape of the snapshot or the drift report, without pydantic.

A leaf (stdlib only): the start-up hook checks a cached baseline with it before the drift engine
sees one. The table it reads, :data:`envparity._shapes.SHAPES`, is generated from the pydantic
models by scripts/gen_shapes.py (the models are the one source; nothing here names a field).

The check is the models' JSON shape: required fields present, every value of an accepted JSON
type (nested shapes, lists and objects all the way down), fixed values (a Literal) among theirs,
no unknown field. It does not run the models' validators (a package name's characters, an aware
``captured_at``), so data it accepts can still fail ``Model.model_validate``. It takes JSON types
as they are, as pydantic's strict JSON mode does: lax mode would also convert "3" to an int or
"no" to false (the JSON envparity writes never needs that, and the engine would compare "3" with
3 as two values).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from ._shapes import SHAPES

# A parsed spec: its alternatives, each (kind, argument): ("str", None), ("list", spec),
# ("map", spec), ("shape", name), ("literal", value), ...
_Alt = Tuple[str, Any]
_Spec = Tuple[_Alt, ...]

_BASE = ("str", "int", "num", "bool", "null", "any")
_WORDS = {
    "str": "a string",
    "int": "an integer",
    "num": "a number",
    "bool": "true or false",
    "null": "null",
    "list": "a list",
    "map": "an object",
    "shape": "an object",
}
_PARSED: Dict[str, Tuple[bool, _Spec]] = {}


def check(data: Any, shape: str) -> Optional[str]:
    """What is wrong with ``data`` as the JSON data of ``shape`` (a model's name: ``Snapshot``,
    ``DriftReport``, ``Finding``...), e.g. ``"cpu.flags: expected a list"``; None when nothing is.

    Never raises on data (an unknown ``shape`` is a KeyError: a bug of the caller's).
    """
    wrong = _object(data, SHAPES[shape])
    if wrong is None:
        return None
    where, what = wrong
    path = "".join(part if part.startswith("[") else "." + part for part in reversed(where))
    return f"{path.lstrip('.')}: {what}" if path else what


# What is wrong: the path to it, innermost part first (built only on the way out of a failure),
# and what.
_Wrong = Tuple[List[str], str]


def _object(data: Any, fields: Dict[str, str]) -> Optional[_Wrong]:
    if not isinstance(data, dict):
        return [], "expected an object"
    for name, raw in fields.items():
        required, spec = _PARSED.get(raw) or _spec(raw)
        if name not in data:
            if required:
                return [name], "missing"
            continue
        wrong = _value(data[name], spec)
        if wrong is not None:
            wrong[0].append(name)
            return wrong
    for name in data:
        if name not in fields:
            return [str(name)], "unknown field"
    return None


def _value(value: Any, spec: _Spec) -> Optional[_Wrong]:
    for kind, arg in spec:
        if kind == "any":
            return None
        if kind == "literal":
            if value == arg and type(value) is type(arg):
                return None
            continue
        if not _is(kind, value):
            continue
        if kind == "list":
            for i, item in enumerate(value):
                wrong = _value(item, arg)
                if wrong is not None:
                    wrong[0].append(f"[{i}]")
                    return wrong
        elif kind == "map":
            for key, item in value.items():
                wrong = _value(item, arg)
                if wrong is not None:
                    wrong[0].append(str(key))
                    return wrong
        elif kind == "shape":
            return _object(value, SHAPES[arg])
        return None
    return [], "expected " + _describe(spec)


def _is(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False  # true is no number in JSON
    if kind == "int":
        # 3.0 is an integer in JSON Schema, and pydantic takes it for an int.
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "num":
        return isinstance(value, (int, float))
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, dict)  # map, shape


def _describe(spec: _Spec) -> str:
    words: List[str] = []
    for kind, arg in spec:
        word = json.dumps(arg) if kind == "literal" else _WORDS.get(kind, kind)
        if word not in words:
            words.append(word)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _spec(raw: str) -> Tuple[bool, _Spec]:
    """A table entry parsed (once): (required, its alternatives)."""
    found = _PARSED.get(raw)
    if found is None:
        required = raw.startswith("!")
        found = _PARSED[raw] = (required, _parse(raw[1:] if required else raw))
    return found


def _parse(text: str) -> _Spec:
    alts: List[_Alt] = []
    for part in _split(text):
        if part.startswith("["):
            alts.append(("list", _parse(part[1:-1])))
        elif part.startswith("{"):
            alts.append(("map", _parse(part[1:-1])))
        elif part.startswith("@"):
            alts.append(("shape", part[1:]))
        elif part.startswith("'"):
            alts.append(("literal", part[1:-1]))
        elif part in _BASE:
            alts.append((part, None))
        else:
            alts.append(("literal", json.loads(part)))
    return tuple(alts)


def _split(text: str) -> List[str]:
    """``text`` split at the "|" outside brackets."""
    parts: List[str] = []
    depth = start = 0
    for i, c in enumerate(text):
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
