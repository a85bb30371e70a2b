"""What a pickle stream needs, read from its opcodes: never unpickled, never executed.

A pickle names every class and function it needs with GLOBAL / INST (protocols 0-1: the module
and name are the opcode's argument) or STACK_GLOBAL (protocol 2+: the two strings pushed before
it, often fetched back from the memo). :func:`scan` walks the opcodes as ``pickletools.genops``
does, but keeps only a symbolic stack (strings, small ints, tuples, references; never objects)
and skips large payloads (BINBYTES, BYTEARRAY8, joblib's raw arrays) without reading them into
memory, so a file of any size is scanned in bounded memory.

joblib writes each NumPy array's raw bytes right after the pickled ``NumpyArrayWrapper`` (its
BUILD), so the scanner computes their length from the wrapper's shape and dtype, as joblib's
own unpickler does, and skips them; an object array is a nested pickle stream, scanned in turn.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any, Dict, List, Optional, Set, Tuple

from ..errors import BadInput

#: Globals whose presence means the file runs code when loaded: a model never needs them.
UNSAFE_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "runpy", "commands",
        "importlib", "webbrowser", "code", "ctypes", "marshal", "pickle", "_pickle", "cPickle",
        "multiprocessing", "asyncio", "urllib", "http", "ftplib", "smtplib", "telnetlib",
    }
)
UNSAFE_BUILTINS = frozenset(
    {"eval", "exec", "compile", "open", "__import__", "execfile", "input", "breakpoint"}
)
_BUILTINS = ("builtins", "__builtin__")

_CHUNK = 1 << 20
#: Strings longer than this are not kept on the symbolic stack (a module or class name is short).
_KEEP_STR = 512
#: Containers keep at most this many items (shapes and dtype arguments are small).
_KEEP_ITEMS = 64


class PickleProblem(BadInput):
    """A pickle that cannot be scanned (truncated, not a pickle) or that would run code."""


class _Mark:
    __slots__ = ()


_MARK = _Mark()


class _Global:
    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


class _Call:
    """A REDUCE / NEWOBJ / OBJ / INST result: the callable and its arguments, never called."""

    __slots__ = ("func", "args", "state")

    def __init__(self, func: Any, args: Any) -> None:
        self.func, self.args, self.state = func, args, None


class _Reader:
    """Exact reads and forward skips over a file, or over a decompressor's output."""

    def __init__(self, f: IO[bytes], size: Optional[int] = None) -> None:
        self.f = f
        self.size = size  # known for a plain file: a skip past it is a truncation
        self.pos = 0

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise EOFError
        self.pos += n
        return data

    def byte(self) -> int:
        data = self.f.read(1)
        if not data:
            raise EOFError
        self.pos += 1
        return data[0]

    def line(self) -> bytes:
        data = self.f.readline(65536)
        if not data.endswith(b"\n"):
            raise EOFError
        self.pos += len(data)
        return data[:-1]

    def skip(self, n: int) -> None:
        if self.size is not None:
            if self.pos + n > self.size:
                raise EOFError
            self.f.seek(n, io.SEEK_CUR)
            self.pos += n
            return
        left = n
        while left:
            got = len(self.f.read(min(left, _CHUNK)))
            if not got:
                raise EOFError
            left -= got
        self.pos += n

    def at_end(self) -> bool:
        if self.size is not None:
            return self.pos >= self.size
        data = self.f.peek(1) if hasattr(self.f, "peek") else b""
        return not data


def _text(data: bytes) -> Any:
    if len(data) > _KEEP_STR:
        return None
    return data.decode("utf-8", "replace")


def _has_object(dtype: Any, depth: int = 0) -> bool:
    """True when a pickled numpy.dtype holds Python objects (or cannot be told apart)."""
    if depth > 8 or not isinstance(dtype, _Call) or not isinstance(dtype.args, tuple):
        return True
    code = dtype.args[0] if dtype.args else None
    if not isinstance(code, str) or code[:1] == "O":
        return True
    state = dtype.state
    fields = state[4] if isinstance(state, tuple) and len(state) > 4 else None
    if fields is None:
        return False
    if not isinstance(fields, dict) or len(fields) >= _KEEP_ITEMS:
        return True
    return any(
        not isinstance(v, tuple) or not v or _has_object(v[0], depth + 1) for v in fields.values()
    )


def _itemsize(dtype: Any) -> Optional[int]:
    """A pickled numpy.dtype's item size: its state's elsize (flexible and structured types),
    else the digits of its type string ('f8' -> 8, 'c16' -> 16); None when it holds Python
    objects (joblib then pickled the array as a stream of its own)."""
    if _has_object(dtype):
        return None
    code = dtype.args[0]
    state = dtype.state
    if isinstance(state, tuple) and len(state) > 5 and isinstance(state[5], int) and state[5] > 0:
        return state[5]
    digits = "".join(c for c in code if c.isdigit())
    return int(digits) if digits else None


class Scan:
    """What one file's pickle streams reference."""

    def __init__(self) -> None:
        self.globals: Set[str] = set()
        self.unsafe: List[str] = []
        self.streams = 0


def _wrapper(obj: Any) -> bool:
    func = obj.func if isinstance(obj, _Call) else None
    if isinstance(func, _Call):  # copyreg.__newobj__(cls, ...) as REDUCE
        func = func.args[0] if isinstance(func.args, tuple) and func.args else None
    return (
        isinstance(func, _Global)
        and func.name == "NumpyArrayWrapper"
        and func.module.endswith("numpy_pickle")
    )


def _stream(r: _Reader, scan: Scan, name: str) -> None:
    """Scan one pickle stream, up to and including its STOP."""
    stack: List[Any] = []
    memo: Dict[int, Any] = {}
    marks: List[int] = []

    def pop_mark() -> List[Any]:
        if not marks:
            raise _Bad("MARK expected")
        at = marks.pop()
        items = stack[at:]
        del stack[at:]
        return items

    def pop() -> Any:
        if not stack or (marks and len(stack) <= marks[-1]):
            raise _Bad("stack underflow")
        return stack.pop()

    def add_global(module: Any, qual: Any) -> _Global:
        module = module if isinstance(module, str) else "?"
        qual = qual if isinstance(qual, str) else "?"
        scan.globals.add(f"{module}.{qual}" if qual != "?" else module)
        top = module.split(".", 1)[0]
        if top in UNSAFE_MODULES or (module in _BUILTINS and qual in UNSAFE_BUILTINS):
            scan.unsafe.append(f"{module}.{qual}")
        return _Global(module, qual)

    while True:
        start = r.pos
        op = r.byte()
        if op == 0x80:  # PROTO
            r.byte()
        elif op == 0x95:  # FRAME
            r.skip(8)
        elif op == 0x2E:  # STOP
            return
        elif op in (0x8C, 0x58, 0x8D):  # SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
            width = {0x8C: 1, 0x58: 4, 0x8D: 8}[op]
            n = int.from_bytes(r.read(width), "little")
            if n > _KEEP_STR:
                r.skip(n)
                stack.append(None)
            else:
                stack.append(_text(r.read(n)))
        elif op in (0x55, 0x54):  # SHORT_BINSTRING, BINSTRING (protocol 1 str)
            n = int.from_bytes(r.read(1 if op == 0x55 else 4), "little", signed=op == 0x54)
            if n < 0:
                raise _Bad("negative length")
            if n > _KEEP_STR:
                r.skip(n)
                stack.append(None)
            else:
                stack.append(_text(r.read(n)))
        elif op in (0x43, 0x42, 0x8E, 0x96):  # SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
            width = {0x43: 1, 0x42: 4, 0x8E: 8, 0x96: 8}[op]
            r.skip(int.from_bytes(r.read(width), "little"))
            stack.append(None)
        elif op in (0x56, 0x53):  # UNICODE, STRING (text protocol 0)
            raw = r.line()
            if op == 0x53:
                raw = raw.strip(b"'\"")
            stack.append(_text(raw))
        elif op in (0x63, 0x69):  # GLOBAL, INST
            module = r.line().decode("utf-8", "replace")
            qual = r.line().decode("utf-8", "replace")
            g = add_global(module, qual)
            if op == 0x69:
                stack.append(_Call(g, tuple(pop_mark())))
            else:
                stack.append(g)
        elif op == 0x93:  # STACK_GLOBAL
            qual, module = pop(), pop()
            stack.append(add_global(module, qual))
        elif op == 0x4B:  # BININT1
            stack.append(r.byte())
        elif op == 0x4D:  # BININT2
            stack.append(int.from_bytes(r.read(2), "little"))
        elif op == 0x4A:  # BININT
            stack.append(int.from_bytes(r.read(4), "little", signed=True))
        elif op == 0x8A:  # LONG1
            stack.append(int.from_bytes(r.read(r.byte()), "little", signed=True))
        elif op == 0x8B:  # LONG4
            n = int.from_bytes(r.read(4), "little", signed=True)
            if n < 0:
                raise _Bad("negative length")
            if n > 64:
                r.skip(n)
                stack.append(None)
            else:
                stack.append(int.from_bytes(r.read(n), "little", signed=True))
        elif op in (0x49, 0x4C):  # INT, LONG (text)
            raw = r.line().rstrip(b"L")
            try:
                stack.append(int(raw) if len(raw) < 64 else None)
            except ValueError:
                stack.append(None)  # "00"/"01" are False/True; nothing here needs them
        elif op == 0x47:  # BINFLOAT
            r.skip(8)
            stack.append(None)
        elif op == 0x46:  # FLOAT
            r.line()
            stack.append(None)
        elif op == 0x4E:  # NONE
            stack.append(None)
        elif op in (0x88, 0x89):  # NEWTRUE, NEWFALSE
            stack.append(op == 0x88)
        elif op in (0x5D, 0x7D, 0x8F):  # EMPTY_LIST, EMPTY_DICT, EMPTY_SET
            stack.append([] if op != 0x7D else {})
        elif op == 0x29:  # EMPTY_TUPLE
            stack.append(())
        elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
            n = op - 0x84
            items = [pop() for _ in range(n)][::-1]
            stack.append(tuple(items))
        elif op == 0x28:  # MARK
            marks.append(len(stack))
        elif op == 0x74:  # TUPLE
            stack.append(tuple(pop_mark()[:_KEEP_ITEMS]))
        elif op == 0x6C:  # LIST
            stack.append(pop_mark()[:_KEEP_ITEMS])
        elif op == 0x64:  # DICT
            items = pop_mark()
            stack.append(_pairs({}, items))
        elif op == 0x91:  # FROZENSET
            pop_mark()
            stack.append(None)
        elif op == 0x61:  # APPEND
            item = pop()
            target = stack[-1] if stack else None
            if isinstance(target, list) and len(target) < _KEEP_ITEMS:
                target.append(item)
        elif op in (0x65, 0x90):  # APPENDS, ADDITEMS
            items = pop_mark()
            target = stack[-1] if stack else None
            if isinstance(target, list):
                target.extend(items[: max(0, _KEEP_ITEMS - len(target))])
        elif op == 0x73:  # SETITEM
            value, key = pop(), pop()
            target = stack[-1] if stack else None
            if isinstance(target, dict):
                _pairs(target, [key, value])
        elif op == 0x75:  # SETITEMS
            items = pop_mark()
            target = stack[-1] if stack else None
            if isinstance(target, dict):
                _pairs(target, items)
        elif op == 0x30:  # POP
            if marks and len(stack) == marks[-1]:
                marks.pop()  # POP of a MARK (pickletools allows it)
            else:
                pop()
        elif op == 0x31:  # POP_MARK
            pop_mark()
        elif op == 0x32:  # DUP
            stack.append(stack[-1] if stack else None)
        elif op in (0x67, 0x68, 0x6A):  # GET, BINGET, LONG_BINGET
            if op == 0x67:
                index = _int(r.line())
            else:
                index = int.from_bytes(r.read(1 if op == 0x68 else 4), "little")
            stack.append(memo.get(index))
        elif op in (0x70, 0x71, 0x72):  # PUT, BINPUT, LONG_BINPUT
            if op == 0x70:
                index = _int(r.line())
            else:
                index = int.from_bytes(r.read(1 if op == 0x71 else 4), "little")
            memo[index] = stack[-1] if stack else None
        elif op == 0x94:  # MEMOIZE
            memo[len(memo)] = stack[-1] if stack else None
        elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4: the copyreg extension registry
            r.skip({0x82: 1, 0x83: 2, 0x84: 4}[op])
            scan.globals.add("copyreg.<extension>")
            stack.append(None)
        elif op == 0x52:  # REDUCE
            args, func = pop(), pop()
            stack.append(_Call(func, args))
        elif op == 0x81:  # NEWOBJ
            args, cls = pop(), pop()
            stack.append(_Call(cls, args))
        elif op == 0x92:  # NEWOBJ_EX
            _kwargs, args, cls = pop(), pop(), pop()
            stack.append(_Call(cls, args))
        elif op == 0x6F:  # OBJ
            items = pop_mark()
            if not items:
                raise _Bad("OBJ without a class")
            stack.append(_Call(items[0], tuple(items[1:])))
        elif op == 0x62:  # BUILD
            state = pop()
            obj = stack[-1] if stack else None
            if isinstance(obj, _Call):
                obj.state = state
                if _wrapper(obj):
                    _skip_array(r, scan, name, state)
        elif op == 0x50:  # PERSID
            r.line()
            stack.append(None)
        elif op == 0x51:  # BINPERSID
            pop()
            stack.append(None)
        elif op in (0x97, 0x98):  # NEXT_BUFFER, READONLY_BUFFER (out-of-band: not in the file)
            if op == 0x97:
                stack.append(None)
        else:
            raise _Bad(f"unknown opcode 0x{op:02x} at byte {start}")


class _Bad(Exception):
    """Not a pickle stream (raised inside the loop, turned into a PickleProblem with the path)."""


def _int(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise _Bad("a memo index that is not a number") from None


def _pairs(target: Dict[Any, Any], items: List[Any]) -> Dict[Any, Any]:
    for i in range(0, len(items) - 1, 2):
        key = items[i]
        if isinstance(key, (str, int)) and len(target) < _KEEP_ITEMS:
            target[key] = items[i + 1]
    return target


def _skip_array(r: _Reader, scan: Scan, name: str, state: Any) -> None:
    """Skip the raw bytes joblib wrote after a NumpyArrayWrapper, or scan its nested pickle."""
    if not isinstance(state, dict):
        raise _Bad("a joblib array wrapper without its state")
    dtype = state.get("dtype")
    shape = state.get("shape")
    itemsize = _itemsize(dtype)
    if itemsize is None:
        # An object array: joblib pickled it with pickle.dump, a stream of its own.
        _stream(r, scan, name)
        return
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise _Bad("a joblib array of unknown shape")
    count = 1
    for n in shape:
        count *= n
    if state.get("numpy_array_alignment_bytes") is not None:
        r.skip(r.byte())  # one byte says how much padding aligns the array
    r.skip(count * itemsize)


def scan_stream(f: IO[bytes], name: str, size: Optional[int] = None) -> Scan:
    """The globals of every pickle stream in ``f`` (pickle.dump may write several in one file;
    joblib and legacy torch files do). ``name`` names the file in errors."""
    scan = Scan()
    r = _Reader(f, size)
    while True:
        try:
            _stream(r, scan, name)
        except EOFError:
            if scan.streams:
                break  # what follows a complete stream is not necessarily a pickle
            raise PickleProblem(
                f"{name}: truncated pickle (it ends at byte {r.pos}, before its STOP "
                "opcode): copy or save the model again"
            ) from None
        except _Bad as e:
            if scan.streams:
                break  # data after the pickle (a legacy torch file's storages)
            raise PickleProblem(
                f"{name}: not a pickle this scanner can read ({e}): give a pickle, joblib, "
                "torch, ONNX or MLflow model"
            ) from None
        scan.streams += 1
        if r.at_end():
            break
    if scan.unsafe:
        first = sorted(set(scan.unsafe))
        raise PickleProblem(
            f"{name}: unsafe pickle: loading it would call {', '.join(first[:3])}"
            f"{' and more' if len(first) > 3 else ''} (it was scanned, never loaded); do not "
            "load it, and save the model again from trusted code"
        )
    return scan


def scan_file(path: str, name: Optional[str] = None) -> Scan:
    """:func:`scan_stream` over a plain (uncompressed) file."""
    shown = name or path
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            return scan_stream(f, shown, size)
    except OSError as e:
        raise BadInput(f"{shown}: cannot read the model file ({e.strerror or e})") from None


def modules_of(globals_: Set[str]) -> List[Tuple[str, str]]:
    """``(top-level module, global)`` pairs, sorted, one global per module kept first."""
    out: Dict[str, str] = {}
    for g in sorted(globals_):
        out.setdefault(g.split(".", 1)[0], g)
    return sorted(out.items())
