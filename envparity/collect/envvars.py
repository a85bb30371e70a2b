"""Environment variables: those that steer determinism and threading, and an allowlist of others.

Never the whole environment. Even inside the allowlist a secret-looking name or a credential-looking
value is redacted (see ``envparity.redact``). Stdlib only.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Mapping, Optional, Tuple

from ..redact import redact
from .interface import Context

# Variables that change numeric results or their reproducibility. PYTHONHASHSEED is not among
# them: the hash seed in effect is recorded as ``determinism.hash_seed`` (see ``hash_seed``).
DETERMINISM_NAMES = frozenset(
    {
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
        "NPY_PROMOTION_STATE",
        "SKLEARN_ASSUME_FINITE",
        "SKLEARN_SITE_JOBLIB",
        "SKLEARN_SEED",
        "LOKY_MAX_CPU_COUNT",
        "TOKENIZERS_PARALLELISM",
    }
)
DETERMINISM_PREFIXES: Tuple[str, ...] = (
    "OMP_",
    "MKL_",
    "OPENBLAS_",
    "KMP_",
    "GOMP_",
    "JOBLIB_",
)

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
        # TensorFlow, by its real names (the TF_ prefix is Terraform's too: TF_VAR_*, TF_LOG,
        # TF_CLI_*, TF_WORKSPACE, TF_IN_AUTOMATION, TF_INPUT, TF_DATA_DIR must never count).
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_CPP_MAX_VLOG_LEVEL",
        "TF_CPP_VMODULE",
        "TF_FORCE_GPU_ALLOW_GROWTH",
        "TF_GPU_ALLOCATOR",
        "TF_GPU_THREAD_MODE",
        "TF_GPU_THREAD_COUNT",
        "TF_USE_LEGACY_KERAS",
        "TF_ENABLE_AUTO_MIXED_PRECISION",
        "TF_ENABLE_XLA",
        "TF_XLA_FLAGS",
        "TF_FORCE_UNIFIED_MEMORY",
        "TF_CUDNN_USE_AUTOTUNE",
        "TF_CUDNN_USE_FRONTEND",
        "TF_USE_CUDNN_BATCHNORM_SPATIAL_PERSISTENT",
        "TF_ENABLE_GPU_GARBAGE_COLLECTION",
        "TF_SYNC_ON_FINISH",
        "TF2_BEHAVIOR",
        "KERAS_BACKEND",
        "KERAS_HOME",
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
    "XLA_",
    "JAX_",
    "HF_",
    "TRANSFORMERS_",
    "MALLOC_",
)


# Terraform's variables: never captured, whatever prefix list a later edit adds.
TERRAFORM_PREFIXES: Tuple[str, ...] = ("TF_VAR_", "TF_CLI_", "TF_LOG", "TF_TOKEN_")
TERRAFORM_NAMES = frozenset(
    {
        "TF_WORKSPACE",
        "TF_IN_AUTOMATION",
        "TF_INPUT",
        "TF_DATA_DIR",
        "TF_PLUGIN_CACHE_DIR",
        "TF_REGISTRY_DISCOVERY_RETRY",
        "TF_REGISTRY_CLIENT_TIMEOUT",
        "TF_IGNORE",
        "TF_STATE_PERSIST_INTERVAL",
        "TF_APPEND_USER_AGENT",
        "TF_CLI_ARGS",
    }
)

# Variables a library sets in os.environ itself when imported: (name, value it sets, library,
# module whose presence in sys.modules means it ran, where it does so). Found set with that value,
# absent at start-up and the library imported, such a variable is the library's, not the user's:
# recorded under ``determinism.library_env`` and kept out of the identity.
LIBRARY_ENV: Tuple[Tuple[str, str, str, str, str], ...] = (
    ("KMP_DUPLICATE_LIB_OK", "True", "scikit-learn", "sklearn", "sklearn/__init__.py"),
    ("KMP_INIT_AT_FORK", "FALSE", "scikit-learn", "sklearn", "sklearn/__init__.py"),
    ("KMP_DUPLICATE_LIB_OK", "True", "threadpoolctl", "threadpoolctl", "threadpoolctl.py"),
)


def is_terraform(name: str) -> bool:
    return name in TERRAFORM_NAMES or name.startswith(TERRAFORM_PREFIXES)


def is_determinism(name: str) -> bool:
    if is_terraform(name):
        return False
    return name in DETERMINISM_NAMES or name.startswith(DETERMINISM_PREFIXES)


def is_allowed(name: str) -> bool:
    if is_terraform(name):
        return False
    return name in ENV_NAMES or name.startswith(ENV_PREFIXES)


def startup_environ(proc: str = "/proc") -> Optional[Dict[str, str]]:
    """The environment this interpreter was started with (Linux), or None where unreadable."""
    try:
        with open(os.path.join(proc, "self", "environ"), "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env: Dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[os.fsdecode(key)] = os.fsdecode(value)
    return env


def hash_seed(start: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    """The hash seed in effect: ``sys.flags.hash_randomization`` and the start-up PYTHONHASHSEED.

    ``start`` is the start-up environment; without one (not Linux), the value envparity saw when
    it was imported. Never a later os.environ: ``seed_everything`` writes PYTHONHASHSEED for child
    processes, which cannot change this interpreter's seed.
    """
    randomization = bool(sys.flags.hash_randomization)
    if start is not None:
        value = start.get("PYTHONHASHSEED")
    else:
        from ..seeding import STARTUP_HASHSEED

        value = STARTUP_HASHSEED
    seed = "random"
    if not sys.flags.ignore_environment and value not in (None, "", "random"):
        try:
            seed = str(int(value))
        except ValueError:
            seed = "random"
    if not randomization:
        seed = "0"
    return {"hash_randomization": randomization, "hash_seed": seed}


def collect(ctx: Context) -> Dict[str, Any]:
    start = startup_environ(ctx.proc)
    determinism: Dict[str, str] = {}
    env: Dict[str, str] = {}
    library_env: Dict[str, Dict[str, str]] = {}
    for name in sorted(ctx.environ):
        value = ctx.environ[name]
        if is_determinism(name):
            owner = _set_by_library(name, value, start)
            if owner is not None:
                library_env[name] = owner
            else:
                determinism[name] = redact(name, value)
        elif is_allowed(name):
            env[name] = redact(name, value)
    return {
        "determinism_env": determinism,
        "env": env,
        "library_env": library_env,
        **hash_seed(start),
    }


def _set_by_library(
    name: str, value: str, start: Optional[Mapping[str, str]]
) -> Optional[Dict[str, str]]:
    if start is not None and name in start:
        return None  # the user's: it was there when the interpreter started
    for var, set_value, library, module, source in LIBRARY_ENV:
        if var == name and value == set_value and module in sys.modules:
            return {"value": value, "set_by": library, "source": source}
    return None
