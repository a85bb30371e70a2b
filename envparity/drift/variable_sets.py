"""Which variables go where in the drift report, shared by the root-cause groups
(:mod:`envparity.drift.groups`) and the per-variable rules (:mod:`envparity.drift.variables`):
the determinism variables whose change is an error, the variables a group reports, and the
helpers both word their findings with.
"""

from __future__ import annotations

from typing import Any

from ..collect.envvars import INSTANCE, variable_class

# Determinism variables whose change alters results or their reproducibility (error); any other
# variable of the determinism set steers threads or performance (warning).
DETERMINISM_ERRORS = {
    "PYTHONHASHSEED": "hash order of str/bytes keys (set and dict-building order)",
    "CUBLAS_WORKSPACE_CONFIG": "whether cuBLAS can run deterministically",
    "CUDA_LAUNCH_BLOCKING": "CUDA kernel launch synchronisation",
    "TF_DETERMINISTIC_OPS": "TensorFlow op determinism",
    "TF_CUDNN_DETERMINISTIC": "cuDNN algorithm choice in TensorFlow",
    "TF_ENABLE_ONEDNN_OPTS": "oneDNN kernels in TensorFlow (results differ in the last bits)",
    "NVIDIA_TF32_OVERRIDE": "TF32 math on Ampere+ GPUs (10-bit mantissa matmuls)",
    "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE": "TF32 math in torch matmuls",
    "TORCH_DETERMINISTIC": "torch deterministic algorithms",
    "MKL_CBWR": "MKL's conditional bitwise reproducibility",
    "MKL_ENABLE_INSTRUCTIONS": "the instruction set MKL uses",
    "MKL_DEBUG_CPU_TYPE": "the code path MKL uses",
    "OPENBLAS_CORETYPE": "the kernels OpenBLAS uses",
    "NPY_DISABLE_CPU_FEATURES": "NumPy's SIMD code paths",
    "XLA_FLAGS": "XLA compilation (fusion, autotuning, determinism)",
    "JAX_ENABLE_X64": "JAX's default float width",
    "JAX_DEFAULT_MATMUL_PRECISION": "JAX matmul precision",
    "ATEN_CPU_CAPABILITY": "torch's CPU kernels (results differ in the last bits)",
    "DNNL_MAX_CPU_ISA": "oneDNN's instruction set (results differ in the last bits)",
    "ONEDNN_MAX_CPU_ISA": "oneDNN's instruction set (results differ in the last bits)",
}


#: Variables that set the locale or the encodings Python uses (grouped with the effective values).
LOCALE_VARS = ("LANG", "LANGUAGE", "PYTHONUTF8")
LOCALE_PREFIXES = ("LC_",)
GPU_AND_LIBRARY_VARS = ("CUDA_VISIBLE_DEVICES", "LD_PRELOAD", "LD_LIBRARY_PATH")
#: Variables that choose the time-zone rules (grouped with ``platform.tz_rules``).
TZ_RULES_VARS = ("PYTHONTZPATH", "TZDIR")
#: Variables compared by code elsewhere than :func:`envparity.drift.variables.env`.
GROUPED = frozenset({"TZ", "PYTHONIOENCODING", *TZ_RULES_VARS})


def set_or_unset(name: str, value: Any) -> str:
    if value is None:
        return f"unset {name} in the candidate (the baseline does not set it)"
    return f"set {name}={value} in the candidate, as in the baseline"


def is_locale_var(name: str) -> bool:
    return (name in LOCALE_VARS or name.startswith(LOCALE_PREFIXES)) and not is_instance(name)


def is_instance(name: str) -> bool:
    """A variable of this machine or process (a cache, a log level): never a finding."""
    return variable_class(name) == INSTANCE

