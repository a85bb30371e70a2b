"""GPUs through NVML. No NVIDIA library, or no GPU, is a normal state, recorded as such.

``nvmlShutdown`` only after a successful ``nvmlInit``; every field is read under its own guard,
because NotSupported is common (MIG slices, older boards). GPUs are identified by UUID and PCI
bus id, never by index: CUDA and NVML can order them differently.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any, Callable, Dict, Optional

from .interface import Context

PROBE = "gpu"


def _optional_text(value: Any) -> Optional[str]:
    # Older nvidia-ml-py returns bytes, newer returns str.
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _field(
    nvml: Any, ctx: Context, what: str, read: Callable[..., Any], *args: Any
) -> Optional[Any]:
    try:
        return read(*args)
    except nvml.NVMLError as e:
        if getattr(e, "value", None) != getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", object()):
            ctx.fail(PROBE, f"{what}: {e}")
        return None


def _cuda_version(raw: Optional[int]) -> Optional[str]:
    # NVML encodes CUDA 12.4 as 12040.
    return None if raw is None else f"{raw // 1000}.{raw % 1000 // 10}"


def _state(state: str, detail: str) -> Dict[str, Any]:
    return {
        "gpus": {
            "state": state,
            "detail": detail,
            "driver_version": None,
            "cuda_driver_version": None,
            "devices": [],
        }
    }


def _driver_library_missing() -> bool:
    # On Linux NVML is libnvidia-ml.so.1, which the driver installs. When it cannot be loaded
    # there is nothing to ask, and importing pynvml (~25 ms, paid by every start-up) is skipped.
    if not sys.platform.startswith("linux"):
        return False
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return True
    return False


def collect(ctx: Context) -> Dict[str, Any]:
    if "pynvml" not in sys.modules and _driver_library_missing():
        return _state("no_library", "libnvidia-ml is not present")
    try:
        import pynvml as nvml
    except ImportError:
        return _state("no_library", "nvidia-ml-py is not installed")
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as e:
        code = getattr(e, "value", None)
        if code == nvml.NVML_ERROR_LIBRARY_NOT_FOUND:
            return _state("no_library", "libnvidia-ml is not present")
        if code == nvml.NVML_ERROR_DRIVER_NOT_LOADED:
            return _state("no_gpu", "the NVIDIA driver is not loaded")
        return _state("error", f"nvmlInit: {e}")
    try:
        info: Dict[str, Any] = {
            "state": "ok",
            "detail": None,
            "driver_version": _optional_text(
                _field(nvml, ctx, "driver version", nvml.nvmlSystemGetDriverVersion)
            ),
            "cuda_driver_version": _cuda_version(
                _field(nvml, ctx, "CUDA driver version", nvml.nvmlSystemGetCudaDriverVersion)
            ),
            "devices": [],
        }
        count = _field(nvml, ctx, "device count", nvml.nvmlDeviceGetCount) or 0
        for index in range(count):
            handle = _field(nvml, ctx, f"device {index}", nvml.nvmlDeviceGetHandleByIndex, index)
            if handle is None:
                continue
            memory = _field(nvml, ctx, "memory", nvml.nvmlDeviceGetMemoryInfo, handle)
            capability = _field(
                nvml, ctx, "compute capability", nvml.nvmlDeviceGetCudaComputeCapability, handle
            )
            pci = _field(nvml, ctx, "PCI info", nvml.nvmlDeviceGetPciInfo, handle)
            info["devices"].append(
                {
                    "index": index,
                    "name": _optional_text(
                        _field(nvml, ctx, "name", nvml.nvmlDeviceGetName, handle)
                    )
                    or "unknown",
                    "memory_bytes": int(memory.total) if memory is not None else None,
                    "compute_capability": f"{capability[0]}.{capability[1]}"
                    if capability
                    else None,
                    "uuid": _optional_text(
                        _field(nvml, ctx, "UUID", nvml.nvmlDeviceGetUUID, handle)
                    ),
                    "pci_bus_id": _optional_text(pci.busId) if pci is not None else None,
                }
            )
        if not info["devices"]:
            info["state"] = "no_gpu"
            info["detail"] = "NVML sees no GPU"
        return {"gpus": info}
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError as e:
            ctx.fail(PROBE, f"nvmlShutdown: {e}")
