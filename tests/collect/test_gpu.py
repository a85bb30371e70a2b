"""GPUs through NVML, with NVML faked at its boundary: each state is recorded, none is fatal."""

from __future__ import annotations

import sys
import types
from typing import Any, Dict, List, Optional

import pytest

from envparity.collect import gpu
from envparity.collect.interface import Context

NOT_SUPPORTED, LIBRARY_NOT_FOUND, DRIVER_NOT_LOADED, UNKNOWN = 3, 12, 9, 999


class FakeNVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


def fake_nvml(
    devices: List[Dict[str, Any]],
    *,
    init_error: Optional[int] = None,
    calls: Optional[List[str]] = None,
) -> types.ModuleType:
    calls = calls if calls is not None else []
    nvml = types.ModuleType("pynvml")
    nvml.NVMLError = FakeNVMLError
    nvml.NVML_ERROR_NOT_SUPPORTED = NOT_SUPPORTED
    nvml.NVML_ERROR_LIBRARY_NOT_FOUND = LIBRARY_NOT_FOUND
    nvml.NVML_ERROR_DRIVER_NOT_LOADED = DRIVER_NOT_LOADED

    def init() -> None:
        calls.append("init")
        if init_error is not None:
            raise FakeNVMLError(init_error)

    def field(name: str):
        def read(handle: Dict[str, Any]) -> Any:
            value = handle[name]
            if isinstance(value, FakeNVMLError):
                raise value
            return value

        return read

    nvml.nvmlInit = init
    nvml.nvmlShutdown = lambda: calls.append("shutdown")
    nvml.nvmlSystemGetDriverVersion = lambda: b"550.54.15"  # older bindings return bytes
    nvml.nvmlSystemGetCudaDriverVersion = lambda: 12040
    nvml.nvmlDeviceGetCount = lambda: len(devices)
    nvml.nvmlDeviceGetHandleByIndex = lambda i: devices[i]
    nvml.nvmlDeviceGetName = field("name")
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=h["memory"])
    nvml.nvmlDeviceGetCudaComputeCapability = field("cc")
    nvml.nvmlDeviceGetUUID = field("uuid")
    nvml.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId=h["bus"])
    return nvml


def _device(**over: Any) -> Dict[str, Any]:
    base = {
        "name": "NVIDIA H100 80GB HBM3",
        "memory": 85899345920,
        "cc": (9, 0),
        "uuid": "GPU-1111",
        "bus": "00000000:1B:00.0",
    }
    base.update(over)
    return base


def test_no_library_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    assert gpu.collect(Context())["gpus"]["state"] == "no_library"


@pytest.mark.parametrize(
    "code, state",
    [(LIBRARY_NOT_FOUND, "no_library"), (DRIVER_NOT_LOADED, "no_gpu"), (UNKNOWN, "error")],
)
def test_init_failure_is_a_state_and_shutdown_is_not_called(monkeypatch, code, state):
    calls: List[str] = []
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([], init_error=code, calls=calls))
    ctx = Context()
    result = gpu.collect(ctx)["gpus"]
    assert result["state"] == state
    assert calls == ["init"]  # nvmlShutdown only after a successful nvmlInit
    assert ctx.errors == []


def test_library_but_no_gpu(monkeypatch):
    calls: List[str] = []
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([], calls=calls))
    result = gpu.collect(Context())["gpus"]
    assert result["state"] == "no_gpu"
    assert result["driver_version"] == "550.54.15"
    assert calls == ["init", "shutdown"]


def test_devices_with_unsupported_and_failing_fields(monkeypatch):
    calls: List[str] = []
    devices = [
        _device(),
        _device(uuid=FakeNVMLError(NOT_SUPPORTED), bus="00000000:3B:00.0"),
        _device(cc=FakeNVMLError(UNKNOWN), uuid="GPU-3333", bus="00000000:5E:00.0"),
    ]
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(devices, calls=calls))
    ctx = Context()
    result = gpu.collect(ctx)["gpus"]
    assert result["state"] == "ok"
    assert result["cuda_driver_version"] == "12.4"
    first, second, third = result["devices"]
    assert first == {
        "index": 0,
        "name": "NVIDIA H100 80GB HBM3",
        "memory_bytes": 85899345920,
        "compute_capability": "9.0",
        "uuid": "GPU-1111",
        "pci_bus_id": "00000000:1B:00.0",
    }
    assert second["uuid"] is None and second["pci_bus_id"] == "00000000:3B:00.0"
    assert third["compute_capability"] is None
    # NotSupported is normal and silent; any other NVML error is recorded.
    assert [e["message"] for e in ctx.errors] == ["compute capability: NVML error 999"]
    assert calls == ["init", "shutdown"]


def test_gpu_uuids_and_order_are_not_identity(monkeypatch):
    from envparity import snapshot

    a = [_device(uuid="GPU-a", bus="00000000:1B:00.0")]
    b = [_device(uuid="GPU-b", bus="00000000:AF:00.0")]
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(a))
    first = snapshot()
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(b))
    second = snapshot()
    assert first.gpus.devices[0].uuid != second.gpus.devices[0].uuid
    assert first.fingerprint == second.fingerprint


def test_without_the_driver_library_pynvml_is_not_even_imported():
    import subprocess

    if not gpu._driver_library_missing():
        pytest.skip("libnvidia-ml.so.1 is present on this machine")
    code = (
        "import sys; from envparity.collect import gpu; from envparity.collect.interface import "
        "Context; print(gpu.collect(Context())['gpus']['state'], 'pynvml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["no_library", "False"]
