"""The built-in benchmarks.

Each is a factory that returns a :class:`Timed` (``run(loops) -> seconds``) or raises
:class:`Skip` with the reason (NumPy, torch or CUDA not there). Factories run inside a worker
process, so importing NumPy or torch here costs the worker, never ``import envparity``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import time
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

_DISPLAY = {"numpy": "NumPy"}


class Skip(Exception):
    """This benchmark cannot run here; the message says why (recorded as ``skipped``)."""


class Timed:
    """Something the worker can time: ``run(loops)`` returns the seconds ``loops`` calls took."""

    def run(self, loops: int) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def peak_memory_bytes(self) -> Optional[int]:
        """Peak memory the benchmark needs, when it knows better than tracemalloc (GPU)."""
        return None

    def hold(self) -> ContextManager[None]:
        """Hold the benchmark's process state over a block of calls (none by default)."""
        return contextlib.nullcontext()


class Loop(Timed):
    """Time ``loops`` calls of ``work()`` with ``perf_counter``, optionally inside a context."""

    def __init__(self, work: Callable[[], Any], context: Optional[Callable[[], Any]] = None):
        self.work = work
        self.context = context
        self.held = False  # the worker holds the context over a whole block of samples

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the context (if any) over a whole block of calls instead of entering it per call."""
        if self.context is None:
            yield
            return
        with self.context():
            self.held = True
            try:
                yield
            finally:
                self.held = False

    def run(self, loops: int) -> float:
        work = self.work
        if self.context is not None and not self.held:
            with self.context():
                start = time.perf_counter()
                for _ in range(loops):
                    work()
                return time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(loops):
            work()
        return time.perf_counter() - start


def _llc_bytes() -> int:
    """The last-level cache size from sysfs; 32 MiB when unknown."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in os.listdir(base):
            try:
                with open(os.path.join(base, entry, "size")) as f:
                    text = f.read().strip()
            except OSError:
                continue
            unit = {"K": 1024, "M": 1024 * 1024}.get(text[-1:], 1)
            digits = text.rstrip("KM")
            if digits.isdigit():
                best = max(best, int(digits) * unit)
    except OSError:
        pass
    return best or 32 * 1024 * 1024


def _bandwidth_bytes() -> int:
    # A quarter larger than the last-level cache so the copy measures memory, not cache; capped
    # so one sample stays a few milliseconds on a machine with a huge (shared) L3.
    return min(max(_llc_bytes() * 5 // 4, 8 << 20), 48 << 20)


def require(module: str) -> Any:
    """The optional library ``module``, or :class:`Skip` saying it is not installed here."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise Skip(f"{_DISPLAY.get(module, module)} is not installed ({e})") from None


def _cuda() -> Any:
    torch = require("torch")
    if not torch.cuda.is_available():
        raise Skip("CUDA is not available (torch.cuda.is_available() is False)")
    return torch


# --- pure Python ------------------------------------------------------------------------------


def py_loop() -> Timed:
    """The interpreter itself: a loop of integer arithmetic and a call."""

    def work() -> None:
        total = 0
        for i in range(2000):
            total += abs(i * 7 - 5000) % 13

    return Loop(work)


def py_alloc() -> Timed:
    """Allocation: many small objects (lists, tuples, dicts) built and freed, without the GC."""

    def work() -> None:
        # As timeit does: a cyclic collection that happens to fall in one sample and not the next
        # made samples of one process 2-3x apart; freeing here is all by reference count.
        enabled = gc.isenabled()
        gc.disable()
        try:
            items = [(i, [i], {"k": i}) for i in range(500)]
            del items
        finally:
            if enabled:
                gc.enable()

    return Loop(work)


_BUFFERS: List[bytearray] = []


def _buffers() -> Tuple[bytearray, bytearray]:
    """The two memory buffers the bandwidth benchmarks share within a worker process.

    Each is 3/4 of the bandwidth size: the copy's working set (both) and the triad's (three
    arrays in half a buffer each) both stay larger than the last-level cache. Sharing them halves
    the page faults a worker pays before its first sample, which on a VM are most of its start-up.
    """
    if not _BUFFERS:
        size = _bandwidth_bytes() * 3 // 4 // 64 * 64
        src = bytearray(b"\x01") * size  # as float64: a small normal number, never a denormal
        _BUFFERS[:] = [src, bytearray(size)]
    return _BUFFERS[0], _BUFFERS[1]


def mem_copy() -> Timed:
    """Memory copy bandwidth on buffers larger than the last-level cache (plain memcpy)."""
    src, dst = _buffers()
    view_src, view_dst = memoryview(src), memoryview(dst)

    def work() -> None:
        view_dst[:] = view_src

    return Loop(work)


# --- NumPy ------------------------------------------------------------------------------------


def mem_triad() -> Timed:
    """STREAM triad ``a = b + s*c`` on float64 arrays larger than the last-level cache together."""
    np = require("numpy")
    src, dst = _buffers()
    half = len(src) // 8 // 2
    # b and c are read from the copy's source, which nothing writes; a is written into its
    # destination, which the copy overwrites anyway.
    source = np.frombuffer(src, dtype=np.float64)
    b, c = source[:half], source[half : 2 * half]
    a = np.frombuffer(dst, dtype=np.float64)[:half]

    def work() -> None:
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)

    return Loop(work)


def _blas_limit(threads: int) -> Callable[[], Any]:
    ThreadpoolController = require("threadpoolctl").ThreadpoolController  # noqa: N806

    controller = ThreadpoolController()

    def context() -> Any:
        return controller.limit(limits=threads, user_api="blas")

    return context


def _fixed_matrix(np: Any, n: int, dtype: str) -> Any:
    # Benchmarks only need well-scaled data, not random data: a closed form is enough.
    i = np.arange(n * n, dtype=np.float64).reshape(n, n)
    return (((i * 0.6180339887) % 1.0) - 0.5).astype(dtype)


def gemm_f64_1t() -> Timed:
    """NumPy GEMM, float64 256x256, BLAS limited to one thread."""
    np = require("numpy")
    a = _fixed_matrix(np, 256, "float64")
    b = a.T.copy()
    out = np.empty_like(a)
    return Loop(lambda: np.matmul(a, b, out=out), context=_blas_limit(1))


def gemm_f32() -> Timed:
    """NumPy GEMM, float32 512x512, the BLAS's default number of threads."""
    np = require("numpy")
    a = _fixed_matrix(np, 512, "float32")
    b = a.T.copy()
    out = np.empty_like(a)
    return Loop(lambda: np.matmul(a, b, out=out))


def _elementwise(fn_name: str, dtype: str, n: int = 65536) -> Callable[[], Timed]:
    def make() -> Timed:
        np = require("numpy")
        x = np.linspace(-4.0, 4.0, n).astype(dtype)
        out = np.empty_like(x)
        fn = getattr(np, fn_name)
        return Loop(lambda: fn(x, out=out))

    make.__doc__ = f"NumPy elementwise {fn_name} on {n} {dtype} values (SIMD code paths)."
    return make


# --- torch ------------------------------------------------------------------------------------


def torch_matmul_cpu() -> Timed:
    """torch matmul on the CPU, float32 512x512, default threads."""
    torch = require("torch")
    a = torch.linspace(-1.0, 1.0, 512 * 512).reshape(512, 512)
    b = a.t().contiguous()
    out = torch.empty(512, 512)
    return Loop(lambda: torch.matmul(a, b, out=out))


class _CudaEvents(Timed):
    """Time ``loops`` launches of ``work`` on the current stream with CUDA events.

    Host timers would measure the launch, not the kernel: events bracket the GPU work itself.
    """

    def __init__(self, torch: Any, work: Callable[[], Any]):
        self.torch = torch
        self.work = work

    def run(self, loops: int) -> float:
        cuda = self.torch.cuda
        start = cuda.Event(enable_timing=True)
        end = cuda.Event(enable_timing=True)
        cuda.synchronize()
        start.record()
        for _ in range(loops):
            self.work()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end)) / 1000.0  # ms -> s

    def peak_memory_bytes(self) -> Optional[int]:
        """The GPU memory one call needs: its allocator's peak above what was allocated before
        it (the device-wide high-water mark would also hold the other benchmarks' tensors)."""
        cuda = self.torch.cuda
        cuda.synchronize()
        before = int(cuda.memory_allocated())
        cuda.reset_peak_memory_stats()
        self.run(1)
        return max(0, int(cuda.max_memory_allocated()) - before)


def torch_cuda_matmul() -> Timed:
    """torch matmul on the GPU, float32 2048x2048, timed with CUDA events."""
    torch = _cuda()
    a = torch.linspace(-1.0, 1.0, 2048 * 2048, device="cuda").reshape(2048, 2048)
    b = a.t().contiguous()
    out = torch.empty(2048, 2048, device="cuda")
    return _CudaEvents(torch, lambda: torch.matmul(a, b, out=out))


def torch_cuda_h2d() -> Timed:
    """Pinned host-to-device copy of 64 MiB, timed with CUDA events."""
    torch = _cuda()
    n = (64 << 20) // 4
    host = torch.ones(n, dtype=torch.float32).pin_memory()
    device = torch.empty(n, dtype=torch.float32, device="cuda")
    return _CudaEvents(torch, lambda: device.copy_(host, non_blocking=True))


# Timed on the GPU with CUDA events: other processes on the CPUs do not change these times.
CUDA_TIMED = frozenset({"torch_cuda_matmul", "torch_cuda_h2d"})
# The suite name of both runs of one ``bench --against`` ("quick+paired"): their processes are
# paired round by round.
PAIRED_SUFFIX = "+paired"

# --- suites -----------------------------------------------------------------------------------

BUILTINS: Dict[str, Callable[[], Timed]] = {
    "py_loop": py_loop,
    "py_alloc": py_alloc,
    "mem_copy": mem_copy,
    "mem_triad": mem_triad,
    "numpy_gemm_f64_1t": gemm_f64_1t,
    "numpy_gemm_f32": gemm_f32,
    "numpy_exp_f64": _elementwise("exp", "float64"),
    "numpy_tanh_f64": _elementwise("tanh", "float64"),
    "numpy_exp_f32": _elementwise("exp", "float32"),
    "numpy_tanh_f32": _elementwise("tanh", "float32"),
    "numpy_log_f64": _elementwise("log", "float64"),
    "torch_matmul_cpu": torch_matmul_cpu,
    "torch_cuda_matmul": torch_cuda_matmul,
    "torch_cuda_h2d": torch_cuda_h2d,
}

_QUICK = [
    "py_loop",
    "py_alloc",
    "mem_copy",
    "mem_triad",
    "numpy_gemm_f64_1t",
    "numpy_gemm_f32",
    "numpy_exp_f64",
    "numpy_tanh_f64",
    "torch_matmul_cpu",
    "torch_cuda_matmul",
    "torch_cuda_h2d",
]
_FULL = _QUICK[:-3] + ["numpy_exp_f32", "numpy_tanh_f32", "numpy_log_f64"] + _QUICK[-3:]


class SuiteSpec:
    """How a suite runs: which benchmarks, how many worker processes, rounds and warm-ups."""

    def __init__(
        self,
        names: List[str],
        processes: int,
        rounds: int,
        warmups: int,
        *,
        min_processes: int,
        budget_s: float,
        against_s: float = 30.0,
    ):
        self.names = names
        self.processes = processes
        self.rounds = rounds
        self.warmups = warmups
        # Past min_processes, a worker is started only if, at the workers' typical duration so
        # far, it would end within budget_s of the suite's start: a machine slowed by its
        # neighbours gets fewer processes, not a longer wait.
        self.min_processes = min_processes
        self.budget_s = budget_s
        # ``bench --against`` adds rounds while a verdict is open, for at most this many seconds
        # (``--max-time``); it stops as soon as every benchmark is called or ``same``.
        self.against_s = against_s


SUITES: Dict[str, SuiteSpec] = {
    # quick: up to 12 fresh processes of 5 rounds. Many processes, because what matters when a
    # neighbour slows several in a row is how many show the machine's own speed; 5 rounds, because
    # a process is read by its fastest sample (see stats.py) and the fastest of 2 is still a draw
    # from the machine's drift: a 10% slowdown was called in 11 of 20 replayed pairs with 2
    # rounds, 20 of 20 with 5. A round costs ~20 ms a worker, its start-up and NumPy's import
    # ~200 ms, so the budget lets about 10 processes run.
    "quick": SuiteSpec(
        _QUICK, processes=12, rounds=5, warmups=1, min_processes=9, budget_s=2.5, against_s=30.0
    ),
    "full": SuiteSpec(
        _FULL, processes=20, rounds=10, warmups=2, min_processes=15, budget_s=15.0, against_s=90.0
    ),
}


def describe(name: str) -> Tuple[str, str]:
    """``(name, first docstring line)`` of a built-in benchmark."""
    doc = (BUILTINS[name].__doc__ or "").strip().splitlines()
    return name, doc[0] if doc else ""
