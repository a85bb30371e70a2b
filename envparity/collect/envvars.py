"""Environment variables: those that steer determinism and threading, and an allowlist of others.

Never the whole environment. Even inside the allowlist a secret-looking name or a credential-looking
value is redacted (see ``envparity.redact``). Stdlib only.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple

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
        "ATEN_CPU_CAPABILITY",
        "DNNL_MAX_CPU_ISA",
        "ONEDNN_MAX_CPU_ISA",
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
        "PYTHONTZPATH",
        "TZDIR",
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


# What each captured variable is to the identity, by its effect rather than its form.
#: In the fingerprint, and a difference is a finding: it changes which code runs or what it
#: computes.
IDENTITY = "identity"
#: Recorded and shown, never in the fingerprint, never a finding: it belongs to one machine or
#: process (a cache location, a log level, an allocator knob), like the hostname.
INSTANCE = "instance"
#: Recorded, but compared through the effective value it sets (recorded elsewhere, in the
#: identity): a difference of the variable alone changes nothing a program sees.
RECORDED_ONLY = "recorded-only"
CLASSES = (IDENTITY, INSTANCE, RECORDED_ONLY)


class Variable(NamedTuple):
    """One row of the variable table: a name, or a prefix written ``PREFIX*``."""

    pattern: str
    cls: str
    reason: str


_V = Variable
_CACHE = "a cache or data location: where files are kept, not what is computed"
_LOG = "a log level or debug output: what is printed, not what is computed"
_MALLOC = "an allocator tuning knob: memory use and speed, not results"
_NETWORK = "network access: where files come from, not what is computed"
_CREDENTIAL = "a credential (its value is redacted): who downloads, not what is computed"

#: Every captured variable (by name, or by prefix for the prefix families), its class and why.
#: ``docs/variables.md`` is generated from these rows (scripts/gen_variables_table.py); a name
#: matches its own row first, else the longest prefix row.
VARIABLES: Tuple[Variable, ...] = (
    # Threads and determinism switches of native libraries.
    _V("OMP_*", IDENTITY, "OpenMP threads and placement: reduction order and speed"),
    _V("OMP_DISPLAY_ENV", INSTANCE, _LOG),
    _V("OMP_DISPLAY_AFFINITY", INSTANCE, _LOG),
    _V("MKL_*", IDENTITY, "MKL threads, instruction set and reproducibility mode"),
    _V("MKL_VERBOSE", INSTANCE, _LOG),
    _V("OPENBLAS_*", IDENTITY, "OpenBLAS threads and kernel choice"),
    _V("OPENBLAS_VERBOSE", INSTANCE, _LOG),
    _V("KMP_*", IDENTITY, "Intel OpenMP threads, placement and blocking"),
    _V("KMP_SETTINGS", INSTANCE, _LOG),
    _V("KMP_WARNINGS", INSTANCE, _LOG),
    _V("GOMP_*", IDENTITY, "GNU OpenMP threads and placement"),
    _V("JOBLIB_*", IDENTITY, "joblib's parallel back-end: processes or threads"),
    _V("JOBLIB_TEMP_FOLDER", INSTANCE, _CACHE),
    _V("NUMEXPR_NUM_THREADS", IDENTITY, "numexpr threads"),
    _V("NUMEXPR_MAX_THREADS", IDENTITY, "numexpr threads"),
    _V("VECLIB_MAXIMUM_THREADS", IDENTITY, "Accelerate (vecLib) threads"),
    _V("BLIS_NUM_THREADS", IDENTITY, "BLIS threads"),
    _V("GOTO_NUM_THREADS", IDENTITY, "GotoBLAS/OpenBLAS threads"),
    _V("LOKY_MAX_CPU_COUNT", IDENTITY, "loky's worker count"),
    _V("TOKENIZERS_PARALLELISM", IDENTITY, "Hugging Face tokenizers threads"),
    _V("NPY_DISABLE_CPU_FEATURES", IDENTITY, "NumPy's SIMD code paths"),
    _V("NPY_PROMOTION_STATE", IDENTITY, "NumPy's type promotion rules"),
    _V("ATEN_CPU_CAPABILITY", IDENTITY,
       "torch's CPU kernels (default, avx2, avx512): results differ in the last bits"),
    _V("DNNL_MAX_CPU_ISA", IDENTITY, "oneDNN's instruction set: its kernels and results"),
    _V("ONEDNN_MAX_CPU_ISA", IDENTITY, "oneDNN's instruction set: its kernels and results"),
    _V("SKLEARN_ASSUME_FINITE", IDENTITY, "scikit-learn's input validation"),
    _V("SKLEARN_SITE_JOBLIB", IDENTITY, "which joblib scikit-learn uses"),
    _V("SKLEARN_SEED", IDENTITY, "scikit-learn's test seed"),
    # CUDA and GPU libraries.
    _V("CUDA_*", IDENTITY,
       "which CUDA toolkit, devices and launch mode (CUDA_HOME, CUDA_VISIBLE_DEVICES, "
       "CUDA_LAUNCH_BLOCKING)"),
    _V("CUDA_CACHE_PATH", INSTANCE, _CACHE),
    _V("CUDA_CACHE_MAXSIZE", INSTANCE, _CACHE),
    _V("CUDA_CACHE_DISABLE", INSTANCE, "the JIT cache: speed of the first launch only"),
    _V("CUBLAS_*", IDENTITY, "cuBLAS workspace and determinism"),
    _V("CUDNN_*", IDENTITY, "cuDNN's library and algorithm choice"),
    _V("NCCL_*", IDENTITY, "NCCL's algorithms and protocols: reduction order"),
    _V("NCCL_DEBUG", INSTANCE, _LOG),
    _V("NCCL_DEBUG_SUBSYS", INSTANCE, _LOG),
    _V("NCCL_DEBUG_FILE", INSTANCE, _LOG),
    _V("NCCL_SOCKET_IFNAME", INSTANCE, "a network interface of this machine"),
    _V("NVIDIA_VISIBLE_DEVICES", IDENTITY, "which GPUs the container sees"),
    _V("NVIDIA_DRIVER_CAPABILITIES", IDENTITY, "which driver libraries the container gets"),
    _V("NVIDIA_TF32_OVERRIDE", IDENTITY, "TF32 math on Ampere+ GPUs"),
    # PyTorch.
    _V("TORCH_*", IDENTITY, "torch's switches (determinism, TF32, CUDA architectures)"),
    _V("TORCH_HOME", INSTANCE, _CACHE),
    _V("TORCH_EXTENSIONS_DIR", INSTANCE, _CACHE),
    _V("TORCH_LOGS", INSTANCE, _LOG),
    _V("TORCH_CPP_LOG_LEVEL", INSTANCE, _LOG),
    _V("TORCH_SHOW_CPP_STACKTRACES", INSTANCE, _LOG),
    _V("TORCH_DISTRIBUTED_DEBUG", INSTANCE, _LOG),
    _V("PYTORCH_*", IDENTITY, "torch's allocator and back-end switches"),
    _V("PYTORCH_KERNEL_CACHE_PATH", INSTANCE, _CACHE),
    # TensorFlow and Keras.
    _V("TF_DETERMINISTIC_OPS", IDENTITY, "TensorFlow op determinism"),
    _V("TF_CUDNN_DETERMINISTIC", IDENTITY, "cuDNN algorithm choice in TensorFlow"),
    _V("TF_ENABLE_ONEDNN_OPTS", IDENTITY, "oneDNN kernels in TensorFlow"),
    _V("TF_NUM_INTEROP_THREADS", IDENTITY, "TensorFlow threads"),
    _V("TF_NUM_INTRAOP_THREADS", IDENTITY, "TensorFlow threads"),
    _V("TF_CPP_MIN_LOG_LEVEL", INSTANCE, _LOG),
    _V("TF_CPP_MAX_VLOG_LEVEL", INSTANCE, _LOG),
    _V("TF_CPP_VMODULE", INSTANCE, _LOG),
    _V("TF_FORCE_GPU_ALLOW_GROWTH", INSTANCE, "GPU memory reservation: memory use, not results"),
    _V("TF_GPU_ALLOCATOR", IDENTITY, "TensorFlow's GPU allocator"),
    _V("TF_GPU_THREAD_MODE", IDENTITY, "TensorFlow's GPU threads"),
    _V("TF_GPU_THREAD_COUNT", IDENTITY, "TensorFlow's GPU threads"),
    _V("TF_USE_LEGACY_KERAS", IDENTITY, "which Keras runs"),
    _V("TF_ENABLE_AUTO_MIXED_PRECISION", IDENTITY, "mixed precision: float16 math"),
    _V("TF_ENABLE_XLA", IDENTITY, "XLA compilation"),
    _V("TF_XLA_FLAGS", IDENTITY, "XLA compilation"),
    _V("TF_FORCE_UNIFIED_MEMORY", IDENTITY, "TensorFlow's GPU memory model"),
    _V("TF_CUDNN_USE_AUTOTUNE", IDENTITY, "cuDNN algorithm choice in TensorFlow"),
    _V("TF_CUDNN_USE_FRONTEND", IDENTITY, "cuDNN algorithm choice in TensorFlow"),
    _V("TF_USE_CUDNN_BATCHNORM_SPATIAL_PERSISTENT", IDENTITY, "cuDNN batch-norm kernels"),
    _V("TF_ENABLE_GPU_GARBAGE_COLLECTION", IDENTITY, "TensorFlow's GPU memory reuse"),
    _V("TF_SYNC_ON_FINISH", IDENTITY, "TensorFlow's GPU synchronisation"),
    _V("TF2_BEHAVIOR", IDENTITY, "TensorFlow 1 or 2 semantics"),
    _V("KERAS_BACKEND", IDENTITY, "which framework Keras runs on"),
    _V("KERAS_HOME", INSTANCE, _CACHE),
    # JAX and XLA.
    _V("XLA_*", IDENTITY, "XLA compilation (fusion, autotuning, determinism)"),
    _V("JAX_*", IDENTITY, "JAX's float width, matmul precision and platforms"),
    # Hugging Face.
    _V("HF_*", IDENTITY,
       "other Hugging Face switches: a library that reads one may compute otherwise"),
    _V("HF_HOME", INSTANCE, _CACHE),
    _V("HF_HUB_CACHE", INSTANCE, _CACHE),
    _V("HF_DATASETS_CACHE", INSTANCE, _CACHE),
    _V("HF_ASSETS_CACHE", INSTANCE, _CACHE),
    _V("HF_MODULES_CACHE", INSTANCE, _CACHE),
    _V("HF_XET_CACHE", INSTANCE, _CACHE),
    _V("HF_TOKEN", INSTANCE, _CREDENTIAL),
    _V("HF_TOKEN_PATH", INSTANCE, _CREDENTIAL),
    _V("HF_ENDPOINT", INSTANCE, _NETWORK),
    _V("HF_HUB_OFFLINE", INSTANCE, _NETWORK),
    _V("HF_DATASETS_OFFLINE", INSTANCE, _NETWORK),
    _V("HF_HUB_ENABLE_HF_TRANSFER", INSTANCE, _NETWORK),
    _V("HF_HUB_DOWNLOAD_TIMEOUT", INSTANCE, _NETWORK),
    _V("HF_HUB_ETAG_TIMEOUT", INSTANCE, _NETWORK),
    _V("HF_HUB_VERBOSITY", INSTANCE, _LOG),
    _V("HF_HUB_DISABLE_PROGRESS_BARS", INSTANCE, _LOG),
    _V("HF_HUB_DISABLE_TELEMETRY", INSTANCE, _NETWORK),
    _V("HF_HUB_DISABLE_SYMLINKS_WARNING", INSTANCE, _LOG),
    _V("TRANSFORMERS_*", IDENTITY, "transformers' switches"),
    _V("TRANSFORMERS_CACHE", INSTANCE, _CACHE),
    _V("TRANSFORMERS_VERBOSITY", INSTANCE, _LOG),
    _V("TRANSFORMERS_NO_ADVISORY_WARNINGS", INSTANCE, _LOG),
    _V("TRANSFORMERS_OFFLINE", INSTANCE, _NETWORK),
    # The C library and the dynamic loader.
    _V("LD_PRELOAD", IDENTITY, "native code loaded into every process"),
    _V("LD_LIBRARY_PATH", IDENTITY, "which native libraries load"),
    _V("MALLOC_*", IDENTITY, "glibc malloc checking and perturbation"),
    _V("MALLOC_ARENA_MAX", INSTANCE, _MALLOC),
    _V("MALLOC_TRIM_THRESHOLD_", INSTANCE, _MALLOC),
    _V("MALLOC_MMAP_THRESHOLD_", INSTANCE, _MALLOC),
    _V("MALLOC_TOP_PAD_", INSTANCE, _MALLOC),
    _V("MALLOC_MMAP_MAX_", INSTANCE, _MALLOC),
    # Time zone and locale.
    _V("TZ", RECORDED_ONLY, "compared as the effective time zone (platform.timezone)"),
    _V("TZDIR", IDENTITY,
       "which time-zone database the C library reads (part of platform.tz_rules)"),
    _V("PYTHONTZPATH", IDENTITY,
       "which time-zone rules zoneinfo reads (part of platform.tz_rules)"),
    _V("LANG", IDENTITY, "the locale: string collation, number and date formats"),
    _V("LC_*", IDENTITY, "the locale: string collation, number and date formats"),
    _V("LANGUAGE", INSTANCE, "the language of translated messages only"),
    # The Python interpreter.
    _V("PYTHONPATH", IDENTITY, "which modules import"),
    _V("PYTHONNOUSERSITE", IDENTITY, "whether user site-packages import"),
    _V("PYTHONOPTIMIZE", IDENTITY, "assert statements and __debug__"),
    _V("PYTHONUTF8", RECORDED_ONLY,
       "compared as the effective encodings (platform.preferred_encoding, filesystem_encoding)"),
    _V("PYTHONIOENCODING", RECORDED_ONLY,
       "compared as the effective stdin/stdout/stderr encoding: utf-8 where the locale's "
       "encoding already is UTF-8 is the same"),
    _V("PYTHONWARNINGS", IDENTITY, "warning filters: a warning can be an error"),
    _V("PYTHONDEVMODE", IDENTITY, "debug checks and warnings"),
    _V("PYTHONMALLOC", IDENTITY, "the interpreter's allocator and its debug checks"),
    _V("CONDA_DEFAULT_ENV", INSTANCE, "the name of the active conda environment; its "
       "packages are recorded"),
)
_BY_NAME: Dict[str, Variable] = {v.pattern: v for v in VARIABLES if not v.pattern.endswith("*")}
_BY_PREFIX: Tuple[Variable, ...] = tuple(
    sorted((v for v in VARIABLES if v.pattern.endswith("*")), key=lambda v: -len(v.pattern))
)


def variable(name: str) -> Optional[Variable]:
    """The table row for ``name``: its own row, else its longest prefix row; None if none."""
    row = _BY_NAME.get(name)
    if row is not None:
        return row
    for row in _BY_PREFIX:
        if name.startswith(row.pattern[:-1]):
            return row
    return None


def variable_class(name: str) -> str:
    """``identity``, ``instance`` or ``recorded-only`` (a name without a row is identity)."""
    row = variable(name)
    return row.cls if row is not None else IDENTITY


def _codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.strip().lower()


def effective_io_encoding(value: Optional[str], preferred: Optional[str]) -> Optional[str]:
    """The stdin/stdout/stderr encoding ``PYTHONIOENCODING=value`` gives where the locale's is
    ``preferred``, as ``codec`` or ``codec:errors`` (None when neither is known)."""
    codec, _, errors = (value or "").partition(":")
    chosen = codec.strip() or preferred
    if not chosen:
        return None
    errors = errors.strip()
    return _codec(chosen) + (f":{errors}" if errors and errors != "strict" else "")


def identity_env(env: Mapping[str, Any], preferred_encoding: Optional[str]) -> Dict[str, Any]:
    """The variables of ``env`` that belong to the identity (schema 3 rules): instance ones left
    out, and ``PYTHONIOENCODING`` only where its effective encoding is not the locale's."""
    kept: Dict[str, Any] = {}
    for name, value in env.items():
        cls = variable_class(name)
        if cls == IDENTITY:
            kept[name] = value
        elif name == "PYTHONIOENCODING":
            effective = effective_io_encoding(value, preferred_encoding)
            if effective != effective_io_encoding(None, preferred_encoding):
                kept[name] = effective
    return kept


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
