"""Environment variables: those that steer determinism and threading, and an allowlist of others.

Never the whole environment. Even inside the allowlist a secret-looking name or a credential-looking
value is redacted (see ``envparity.redact``). Stdlib only.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from ..redact import redact
from .interface import Context

# Variables that change numeric results or their reproducibility.
DETERMINISM_NAMES = frozenset(
    {
        "PYTHONHASHSEED",
        "CUBLAS_WORKSPACE_CONFIG",
        "CUDA_LAUNCH_BLOCKING",
        "TF_DETERMINISTIC_OPS",
        "TF_CUDNN_DETERMINISTIC",
        "TF_ENABLE_ONEDNN_OPTS",
        "TF_NUM_INTEROP_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "NVIDIA_TF32_OVERRIDE",
        "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE",
        "TORCH_DETERMINISTIC",
        "NUMEXPR_NUM_THREADS",
        "NUMEXPR_MAX_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "BLIS_NUM_THREADS",
        "GOTO_NUM_THREADS",
        "NPY_DISABLE_CPU_FEATURES",
        "XLA_FLAGS",
        "JAX_ENABLE_X64",
        "JAX_DEFAULT_MATMUL_PRECISION",
        "JAX_PLATFORMS",
    }
)
DETERMINISM_PREFIXES: Tuple[str, ...] = ("OMP_", "MKL_", "OPENBLAS_", "KMP_", "GOMP_")

# Other variables worth seeing.
ENV_NAMES = frozenset(
    {
        "TZ",
        "LANG",
        "LANGUAGE",
        "CUDA_VISIBLE_DEVICES",
        "CUDA_DEVICE_ORDER",
        "NVIDIA_VISIBLE_DEVICES",
        "NVIDIA_DRIVER_CAPABILITIES",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "PYTHONNOUSERSITE",
        "PYTHONOPTIMIZE",
        "PYTHONUTF8",
        "PYTHONIOENCODING",
        "PYTHONWARNINGS",
        "PYTHONDEVMODE",
        "PYTHONMALLOC",
        "CONDA_DEFAULT_ENV",
    }
)
ENV_PREFIXES: Tuple[str, ...] = (
    "LC_",
    "CUDA_",
    "CUBLAS_",
    "CUDNN_",
    "NCCL_",
    "TORCH_",
    "PYTORCH_",
    "TF_",
    "XLA_",
    "JAX_",
    "HF_",
    "TRANSFORMERS_",
    "MALLOC_",
)


def is_determinism(name: str) -> bool:
    return name in DETERMINISM_NAMES or name.startswith(DETERMINISM_PREFIXES)


def is_allowed(name: str) -> bool:
    return name in ENV_NAMES or name.startswith(ENV_PREFIXES)


def collect(ctx: Context) -> Dict[str, Any]:
    determinism: Dict[str, str] = {}
    env: Dict[str, str] = {}
    for name in sorted(ctx.environ):
        if is_determinism(name):
            determinism[name] = redact(name, ctx.environ[name])
        elif is_allowed(name):
            env[name] = redact(name, ctx.environ[name])
    return {"determinism_env": determinism, "env": env}
