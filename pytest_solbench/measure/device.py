"""The device items run on, as pytest's own process sees it (no CUDA context of its own needed)."""

from __future__ import annotations

import platform
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class DeviceInfo:
    """The device items run on, as the parent process sees it (NVML first: no CUDA context needed)."""

    kind: str  # "cuda" | "cpu"
    name: str
    capability: tuple[int, int] | None = None
    memory_bytes: int | None = None
    sm_count: int | None = None
    driver: str | None = None

    @property
    def sm(self) -> str:
        return f"sm_{self.capability[0]}{self.capability[1]}" if self.capability else "cpu"


def detect_device(asked: str, index: int = 0) -> DeviceInfo:
    if asked == "cpu":
        return DeviceInfo("cpu", platform.processor() or platform.machine())
    try:
        import torch

        available = torch.cuda.is_available()
    except ImportError:
        available = False
    if not available:
        if asked == "cuda":
            raise pytest.UsageError("--solbench-device cuda: no CUDA GPU is visible to torch")
        return DeviceInfo("cpu", platform.processor() or platform.machine())
    props = torch.cuda.get_device_properties(index)
    driver = None
    try:
        import pynvml

        pynvml.nvmlInit()
        driver = pynvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else driver
    except Exception:
        pass
    return DeviceInfo(
        "cuda", props.name, (props.major, props.minor), int(props.total_memory), props.multi_processor_count, driver
    )
