"""GPU clocks through NVML: what a reading holds, the clock mode asked for, and observing clocks and throttle
reasons. Locking them for a session, and restoring them, is ``measure.session_clocks``."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

# Bits of nvmlClocksEventReasons (formerly nvmlClocksThrottleReasons); the values are the same in both enums.
REASON_BITS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",  # also user-defined (locked) clocks
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal",
    0x40: "hw_thermal",
    0x80: "hw_power_brake",
    0x100: "display_clock_setting",
    0x200: "board_limit",
    0x400: "reliability",
}
# Reasons that lower the clock below what the settings allow. Idle, application/locked clocks and the display
# setting are choices, not throttling.
THROTTLING = frozenset(REASON_BITS.values()) - {"gpu_idle", "applications_clocks_setting", "display_clock_setting"}

LOCK_TOLERANCE_MHZ = 50  # what SOL-ExecBench accepts when it reads locked clocks back
NO_PERMISSION_HINT = (
    "locking clocks needs root or the admin's clock rights (nvidia-smi -lgc works only as root); "
    "run with --solbench-clocks observe"
)


class ClockError(RuntimeError):
    """Clocks could not be locked as asked (no permission, no support, or they did not read back)."""


def decode_reasons(mask: int) -> tuple[str, ...]:
    """Names of the bits set in an NVML clocks-event/throttle-reason mask, in bit order."""
    names = [name for bit, name in sorted(REASON_BITS.items()) if mask & bit]
    unknown = mask & ~sum(REASON_BITS)
    if unknown:
        names.append(f"unknown_0x{unknown:x}")
    return tuple(names)


@dataclass(frozen=True)
class ClockSnapshot:
    """What NVML said at one moment; a field is None when NVML could not tell."""

    sm_clock_mhz: int | None = None
    mem_clock_mhz: int | None = None
    throttle_reasons: tuple[str, ...] = ()
    temperature_c: int | None = None
    power_w: float | None = None
    error: str | None = None  # why the snapshot is empty or partial

    @property
    def throttled(self) -> bool:
        return any(reason in THROTTLING or reason.startswith("unknown_") for reason in self.throttle_reasons)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["throttle_reasons"] = list(self.throttle_reasons)
        out["throttled"] = self.throttled
        return out


@dataclass(frozen=True)
class ClockMode:
    """The --solbench-clocks option: observe (default) or lock, optionally at given SM/memory clocks in MHz."""

    lock: bool = False
    sm_mhz: int | None = None
    mem_mhz: int | None = None

    def __str__(self) -> str:
        if not self.lock:
            return "observe"
        if self.sm_mhz is None:
            return "lock"
        return f"lock={self.sm_mhz}" + (f",{self.mem_mhz}" if self.mem_mhz is not None else "")


def parse_clock_mode(text: str) -> ClockMode:
    """Parse "observe", "lock", "lock=SM" or "lock=SM,MEM" (MHz)."""
    value = text.strip().lower()
    if value == "observe":
        return ClockMode()
    if value == "lock":
        return ClockMode(lock=True)
    match = re.fullmatch(r"lock=(\d+)(?:,(\d+))?", value.replace(" ", ""))
    if match is None:
        raise ValueError(
            f"--solbench-clocks: expected observe, lock, lock=SM or lock=SM,MEM (clocks in MHz), got {text!r}"
        )
    sm, mem = int(match.group(1)), None if match.group(2) is None else int(match.group(2))
    if sm <= 0 or (mem is not None and mem <= 0):
        raise ValueError(f"--solbench-clocks: clocks must be positive MHz, got {text!r}")
    return ClockMode(lock=True, sm_mhz=sm, mem_mhz=mem)


def load_nvml(nvml: Any | None) -> Any:
    if nvml is not None:
        return nvml
    import pynvml  # nvidia-ml-py

    return pynvml


def nvml_index_for_cuda_device(cuda_index: int) -> int:
    """The NVML index of a CUDA device, honouring CUDA_VISIBLE_DEVICES when it lists plain integers.

    (UUID or MIG entries are not mapped; the CUDA index is returned as is.) No torch import: the parent
    process that observes clocks stays light.
    """
    parts = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if part.strip()]
    if parts and all(part.isdigit() for part in parts) and 0 <= cuda_index < len(parts):
        return int(parts[cuda_index])
    return cuda_index


class ClockObserver:
    """Reads clocks, throttle reasons, temperature and power of one GPU; never raises into the caller."""

    def __init__(self, device_index: int = 0, nvml: Any | None = None) -> None:
        self.device_index = device_index
        self._nvml_given = nvml
        self._nvml: Any | None = None
        self._handle: Any | None = None
        self.error: str | None = None

    def _ready(self) -> bool:
        if self._handle is not None:
            return True
        if self.error is not None:
            return False
        try:
            self._nvml = load_nvml(self._nvml_given)
            self._nvml.nvmlInit()
            self._handle = self._nvml.nvmlDeviceGetHandleByIndex(self.device_index)
            return True
        except Exception as exc:  # ImportError, NVMLError_LibraryNotFound, DriverNotLoaded, ...
            self.error = f"NVML unavailable: {exc}"
            return False

    @property
    def available(self) -> bool:
        return self._ready()

    def _read(self, fn: str, *args: Any) -> Any:
        try:
            return getattr(self._nvml, fn)(self._handle, *args)
        except Exception:
            return None

    def snapshot(self) -> ClockSnapshot:
        if not self._ready():
            return ClockSnapshot(error=self.error)
        nvml = self._nvml
        mask = self._read("nvmlDeviceGetCurrentClocksEventReasons")
        if mask is None:
            mask = self._read("nvmlDeviceGetCurrentClocksThrottleReasons")
        power_mw = self._read("nvmlDeviceGetPowerUsage")
        return ClockSnapshot(
            sm_clock_mhz=self._read("nvmlDeviceGetClockInfo", nvml.NVML_CLOCK_SM),
            mem_clock_mhz=self._read("nvmlDeviceGetClockInfo", nvml.NVML_CLOCK_MEM),
            throttle_reasons=() if mask is None else decode_reasons(int(mask)),
            temperature_c=self._read("nvmlDeviceGetTemperature", nvml.NVML_TEMPERATURE_GPU),
            power_w=None if power_mw is None else power_mw / 1000.0,
        )

    __call__ = snapshot  # an observer is itself a clock probe for timing.measure

    def default_sm_clock_mhz(self) -> int | None:
        """The default application SM clock (what the GPU runs at unless told otherwise), or None."""
        if not self._ready():
            return None
        value = self._read("nvmlDeviceGetDefaultApplicationsClock", self._nvml.NVML_CLOCK_SM)
        return value if value is not None else self.max_sm_clock_mhz()

    def max_sm_clock_mhz(self) -> int | None:
        return self._read("nvmlDeviceGetMaxClockInfo", self._nvml.NVML_CLOCK_SM) if self._ready() else None

    def max_mem_clock_mhz(self) -> int | None:
        return self._read("nvmlDeviceGetMaxClockInfo", self._nvml.NVML_CLOCK_MEM) if self._ready() else None


def is_no_permission(nvml: Any, exc: BaseException) -> bool:
    code = getattr(nvml, "NVML_ERROR_NO_PERMISSION", 4)
    return getattr(exc, "value", None) == code


def is_not_supported(nvml: Any, exc: BaseException) -> bool:
    code = getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", 3)
    return getattr(exc, "value", None) == code


def probe_for(device: str) -> Any:
    """NVML readings for ``device``'s card, so that throttled batches are dropped (the judge takes its own readings
    for the bound); None off a GPU or without NVML."""
    if not device.startswith("cuda"):
        return None
    import torch

    observer = ClockObserver(nvml_index_for_cuda_device(torch.cuda.current_device()))
    return observer.snapshot if observer.available else None
