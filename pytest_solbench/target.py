"""What a session measures against, resolved once: the device, the hardware row of the bounds, the baseline.

The controller resolves a frozen ``Target`` and hands it to pytest-xdist workers through ``workerinput`` (as
pytest-randomly hands over its seed), so every process scores against the same row and the same stored times.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_solbench.measure.device import DeviceInfo, detect_device
from pytest_solbench.sol.hardware import Hardware
from pytest_solbench.options import Settings

WORKERINPUT_KEY = "solbench_target"


@dataclass(frozen=True)
class Target:
    device: DeviceInfo
    hardware: Hardware  # the datasheet row bounds are computed for (measured ceilings are laid over it per process)
    baseline: str  # "reference" | "compile" | the path of stored times
    stored_times: dict[str, dict[str, float]] | None  # definition -> workload uuid -> ms, for a stored baseline
    hardware_note: str = ""  # a warning for the header, e.g. the GPU is not in the table
    gpu_index: int = 0  # the GPU this pytest process times on (the xdist worker's number)

    @property
    def timed(self) -> bool:
        return self.device.kind == "cuda"

    @property
    def baseline_name(self) -> str:
        return {"reference": "the reference, timed the same way",
                "compile": "torch.compile of the reference, timed the same way"}.get(
            self.baseline, f"stored times from {self.baseline}")  # fmt: skip

    @property
    def baseline_label(self) -> str:
        """The baseline as trace lines name it."""
        return {"reference": "reference", "compile": "torch.compile"}.get(self.baseline, f"file:{self.baseline}")

    def stored_time(self, definition: str, uuid: str) -> float | None:
        return (self.stored_times or {}).get(definition, {}).get(uuid)

    @property
    def visible_gpu(self) -> str:
        """CUDA_VISIBLE_DEVICES for this process's kernel workers: the one GPU it owns."""
        visible = [p.strip() for p in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if p.strip()]
        return visible[self.gpu_index] if self.gpu_index < len(visible) else str(self.gpu_index)

    # ------------------------------------------------------------ across processes

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str, gpu_index: int = 0) -> Target:
        data = json.loads(text)
        device = {**data["device"], "capability": _tuple(data["device"]["capability"])}
        hardware = {**data["hardware"], "compute_capability": _tuple(data["hardware"]["compute_capability"])}
        return cls(
            device=DeviceInfo(**device),
            hardware=Hardware(**hardware),
            baseline=data["baseline"],
            stored_times=data["stored_times"],
            hardware_note=data["hardware_note"],
            gpu_index=gpu_index,
        )


def _tuple(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))


def gpu_index(config: pytest.Config) -> int:
    """The xdist worker's number (gw1 -> 1), else 0: one GPU per worker."""
    workerinput = getattr(config, "workerinput", None)
    return int(str(workerinput["workerid"]).lstrip("gw") or 0) if workerinput else 0


def resolve(config: pytest.Config, settings: Settings, device: DeviceInfo | None = None) -> Target:
    """On an xdist worker, the controller's target; elsewhere, resolve it: device (the one given, e.g. a Ray seat's,
    or this machine's), hardware row, stored times."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and WORKERINPUT_KEY in workerinput:
        return Target.from_json(workerinput[WORKERINPUT_KEY], gpu_index(config))
    device = device or detect_device(settings.device, gpu_index(config))
    row, note = _hardware(config, settings, device)
    stored = None
    if settings.baseline not in ("reference", "compile"):
        from pytest_solbench.record import load_baseline_times

        try:
            stored = load_baseline_times(Path(settings.baseline))
        except ValueError as exc:
            raise pytest.UsageError(f"--solbench-baseline: {exc}") from None
    return Target(device, row, settings.baseline, stored, note, gpu_index(config))


def _hardware(config: pytest.Config, settings: Settings, device: DeviceInfo) -> tuple[Hardware, str]:
    """The row bounds are computed for: a conftest hook, the option, the GPU at hand, or H100 SXM."""
    from pytest_solbench.sol import hardware

    row = config.hook.pytest_solbench_hardware(config=config, device_name=device.name)
    if row is None and settings.hardware:
        row = hardware.lookup(settings.hardware)  # validated by options.resolve
    note = ""
    if row is None and device.kind == "cuda":
        row = hardware.identify(device.name, device.memory_bytes, device.sm_count)
        if row is None:
            note = (f"{device.name} is not in the hardware table: bounds use H100 SXM; name a row with "
                    "--solbench-hardware or add one with pytest_solbench_hardware")  # fmt: skip
    if row is not None and not isinstance(row, Hardware):
        raise pytest.UsageError(f"pytest_solbench_hardware returned {type(row).__name__}, not a hardware.Hardware row")
    return (row if row is not None else hardware.lookup("h100_sxm")), note
