"""Determinism switches of ML frameworks, and the CUDA/cuDNN/NCCL versions they report.

A framework is inspected only when it is already imported in this process, or when the user asks
with ``--frameworks``: importing torch costs seconds and may initialise CUDA, so envparity never
does it by surprise (and never on the start-up hook's path).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Dict, Optional

from .interface import Context

PROBE = "frameworks"


def _module(name: str, ctx: Context) -> Optional[Any]:
    if name in sys.modules:
        return sys.modules[name]
    if not ctx.frameworks:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
    except Exception as e:  # a framework that fails to import is worth knowing about
        ctx.fail(PROBE, f"importing {name} failed: {type(e).__name__}: {e}")
        return None


def _read(
    ctx: Context, framework: str, switches: Dict[str, Any], key: str, read: Callable[[], Any]
) -> None:
    try:
        value = read()
    except AttributeError:
        return  # a switch this version of the framework does not have
    except Exception as e:
        ctx.fail(PROBE, f"{framework} {key}: {type(e).__name__}: {e}")
        return
    switches[key] = (
        value if isinstance(value, (bool, int, float, str)) or value is None else str(value)
    )


def _torch(torch: Any, ctx: Context) -> Dict[str, Any]:
    s: Dict[str, Any] = {}
    _read(ctx, "torch", s, "version", lambda: torch.__version__)
    _read(
        ctx,
        "torch",
        s,
        "deterministic_algorithms",
        lambda: torch.are_deterministic_algorithms_enabled(),
    )
    _read(
        ctx,
        "torch",
        s,
        "deterministic_warn_only",
        lambda: torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    _read(ctx, "torch", s, "cudnn.deterministic", lambda: torch.backends.cudnn.deterministic)
    _read(ctx, "torch", s, "cudnn.benchmark", lambda: torch.backends.cudnn.benchmark)
    _read(ctx, "torch", s, "cudnn.allow_tf32", lambda: torch.backends.cudnn.allow_tf32)
    _read(ctx, "torch", s, "cuda.matmul.allow_tf32", lambda: torch.backends.cuda.matmul.allow_tf32)
    _read(ctx, "torch", s, "float32_matmul_precision", lambda: torch.get_float32_matmul_precision())
    # The CPU kernels torch dispatches to (DEFAULT, AVX2, AVX512): instance, like every switch
    # here; the identity has what it derives from (the CPU flags and ATEN_CPU_CAPABILITY).
    _read(ctx, "torch", s, "cpu_capability", lambda: torch.backends.cpu.get_cpu_capability())
    _read(ctx, "torch", s, "num_threads", lambda: torch.get_num_threads())
    _read(ctx, "torch", s, "num_interop_threads", lambda: torch.get_num_interop_threads())
    return s


def _tensorflow(tf: Any, ctx: Context) -> Dict[str, Any]:
    s: Dict[str, Any] = {}
    _read(ctx, "tensorflow", s, "version", lambda: tf.__version__)
    config = tf.config
    _read(
        ctx,
        "tensorflow",
        s,
        "op_determinism",
        lambda: config.experimental.is_op_determinism_enabled(),
    )
    _read(
        ctx,
        "tensorflow",
        s,
        "inter_op_threads",
        lambda: config.threading.get_inter_op_parallelism_threads(),
    )
    _read(
        ctx,
        "tensorflow",
        s,
        "intra_op_threads",
        lambda: config.threading.get_intra_op_parallelism_threads(),
    )
    return s


def _jax(jax: Any, ctx: Context) -> Dict[str, Any]:
    s: Dict[str, Any] = {}
    _read(ctx, "jax", s, "version", lambda: jax.__version__)
    _read(ctx, "jax", s, "enable_x64", lambda: jax.config.jax_enable_x64)
    _read(
        ctx, "jax", s, "default_matmul_precision", lambda: jax.config.jax_default_matmul_precision
    )
    return s


def _accelerator(torch: Any, ctx: Context) -> Dict[str, Any]:
    found: Dict[str, Any] = {"source": "torch", "cuda_runtime": None, "cudnn": None, "nccl": None}
    try:
        found["cuda_runtime"] = torch.version.cuda
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        found["cudnn"] = None if cudnn is None else str(cudnn)
        if torch.cuda.is_available() and hasattr(torch.cuda, "nccl"):
            nccl = torch.cuda.nccl.version()
            found["nccl"] = ".".join(map(str, nccl)) if isinstance(nccl, tuple) else str(nccl)
    except Exception as e:
        ctx.fail(PROBE, f"torch CUDA versions: {type(e).__name__}: {e}")
    return found


def collect(ctx: Context) -> Dict[str, Any]:
    frameworks: Dict[str, Dict[str, Any]] = {}
    accelerator: Dict[str, Any] = {
        "source": None,
        "cuda_runtime": None,
        "cudnn": None,
        "nccl": None,
    }
    torch = _module("torch", ctx)
    if torch is not None:
        frameworks["torch"] = _torch(torch, ctx)
        accelerator = _accelerator(torch, ctx)
    tf = _module("tensorflow", ctx)
    if tf is not None:
        frameworks["tensorflow"] = _tensorflow(tf, ctx)
    jax = _module("jax", ctx)
    if jax is not None:
        frameworks["jax"] = _jax(jax, ctx)
    return {"frameworks": frameworks, "accelerator": accelerator}
