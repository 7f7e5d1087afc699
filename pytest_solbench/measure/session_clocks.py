"""The session's clocks: observed around every measurement, or locked through NVML and always restored (on exit,
on error, at exit and on SIGTERM/SIGINT); a lock that is not in force refuses scoring."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
import warnings
from typing import Any, Callable, Iterator

from pytest_solbench.measure.clocks import (
    LOCK_TOLERANCE_MHZ,
    NO_PERMISSION_HINT,
    ClockError,
    ClockMode,
    ClockObserver,
    ClockSnapshot,
    is_no_permission,
    is_not_supported,
    load_nvml,
    nvml_index_for_cuda_device,
    parse_clock_mode,
)


class ClockLock:
    """Lock SM (and memory) clocks for a block; restore them on exit, on error, at exit and on SIGTERM/SIGINT.

    sm_mhz=None locks the SM clock at the board's base (TDP) clock, as nvbench's ``--lock-gpu-clocks base``;
    mem_mhz=None locks memory at its maximum (HBM boards that refuse a memory lock keep their fixed clock).
    """

    def __init__(
        self,
        device_index: int = 0,
        sm_mhz: int | None = None,
        mem_mhz: int | None = None,
        nvml: Any | None = None,
        *,
        settle_s: float = 3.0,
        tolerance_mhz: int = LOCK_TOLERANCE_MHZ,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device_index, self.sm_mhz, self.mem_mhz = device_index, sm_mhz, mem_mhz
        self.settle_s, self.tolerance_mhz, self._sleep = settle_s, tolerance_mhz, sleep
        self._nvml_given = nvml
        self._nvml: Any | None = None
        self._handle: Any | None = None
        self._sm_locked = self._mem_locked = False
        self._mem_target: int | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._restore_lock = threading.Lock()
        self.locked_sm_mhz: int | None = None  # what the clocks read back once locked
        self.locked_mem_mhz: int | None = None

    @property
    def active(self) -> bool:
        return self._sm_locked or self._mem_locked

    def __enter__(self) -> ClockLock:
        self.lock()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        errors = self.restore()
        if errors:
            message = f"GPU {self.device_index}: could not restore clocks: {'; '.join(errors)}"
            if exc_type is None:
                raise ClockError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def lock(self) -> None:
        try:
            nvml = self._nvml = load_nvml(self._nvml_given)
            nvml.nvmlInit()
            self._handle = nvml.nvmlDeviceGetHandleByIndex(self.device_index)
        except Exception as exc:
            raise ClockError(f"GPU {self.device_index}: cannot reach NVML to lock clocks ({exc})") from exc
        self._install_guards()
        try:
            self._lock_sm()
            self._lock_mem()
            self._verify()
        except BaseException:
            self.restore()
            raise

    def _fail(self, what: str, exc: BaseException) -> ClockError:
        if is_no_permission(self._nvml, exc):
            return ClockError(f"GPU {self.device_index}: {NO_PERMISSION_HINT}")
        return ClockError(f"GPU {self.device_index}: {what} failed: {exc}")

    def _lock_sm(self) -> None:
        nvml, handle = self._nvml, self._handle
        target = self.sm_mhz if self.sm_mhz is not None else getattr(nvml, "NVML_CLOCK_LIMIT_ID_TDP", 0xFFFFFF01)
        try:
            nvml.nvmlDeviceSetGpuLockedClocks(handle, target, target)
        except Exception as exc:
            raise self._fail("locking the SM clock", exc) from exc
        self._sm_locked = True

    def _lock_mem(self) -> None:
        nvml, handle = self._nvml, self._handle
        target = self.mem_mhz
        if target is None:
            try:
                target = nvml.nvmlDeviceGetMaxClockInfo(handle, nvml.NVML_CLOCK_MEM)
            except Exception as exc:
                raise self._fail("reading the maximum memory clock", exc) from exc
        try:
            nvml.nvmlDeviceSetMemoryLockedClocks(handle, target, target)
        except Exception as exc:
            if self.mem_mhz is None and is_not_supported(nvml, exc):
                return  # HBM parts: the memory clock is fixed already; checked in _verify
            raise self._fail("locking the memory clock", exc) from exc
        self._mem_locked = True
        self._mem_target = target

    def _verify(self) -> None:
        nvml, handle = self._nvml, self._handle
        deadline = time.monotonic() + self.settle_s
        while True:
            try:
                sm = nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM)
                mem = nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM)
            except Exception as exc:
                raise self._fail("reading the clocks back", exc) from exc
            problems = []
            if self.sm_mhz is not None and abs(sm - self.sm_mhz) > self.tolerance_mhz:
                problems.append(f"SM clock reads {sm} MHz, asked for {self.sm_mhz}")
            mem_target = self._mem_target if self._mem_locked else None
            if mem_target is not None and abs(mem - mem_target) > self.tolerance_mhz:
                problems.append(f"memory clock reads {mem} MHz, asked for {mem_target}")
            if not problems:
                self.locked_sm_mhz, self.locked_mem_mhz = sm, mem
                return
            if time.monotonic() >= deadline:
                raise ClockError(
                    f"GPU {self.device_index}: clocks did not lock within ±{self.tolerance_mhz} MHz after "
                    f"{self.settle_s:g} s: {'; '.join(problems)}"
                )
            self._sleep(0.1)

    def restore(self) -> list[str]:
        """Undo what this lock set; safe to call many times and from a signal handler. Returns the errors."""
        errors: list[str] = []
        with self._restore_lock:
            nvml, handle = self._nvml, self._handle
            if self._sm_locked:
                self._sm_locked = False
                try:
                    nvml.nvmlDeviceResetGpuLockedClocks(handle)
                except Exception as exc:
                    errors.append(f"resetting the SM clock: {exc}")
            if self._mem_locked:
                self._mem_locked = False
                try:
                    nvml.nvmlDeviceResetMemoryLockedClocks(handle)
                except Exception as exc:
                    errors.append(f"resetting the memory clock: {exc}")
            self._remove_guards()
        return errors

    # -- guards: atexit and signals, so a killed session does not leave the GPU locked

    def _install_guards(self) -> None:
        atexit.register(self.restore)
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread; atexit still covers normal exits
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
            except (ValueError, OSError):
                pass

    def _remove_guards(self) -> None:
        atexit.unregister(self.restore)
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in list(self._previous_handlers.items()):
            try:
                if signal.getsignal(signum) == self._on_signal:
                    signal.signal(signum, previous)
            except (ValueError, OSError):
                pass
        self._previous_handlers.clear()

    def _on_signal(self, signum: int, frame: Any) -> None:
        previous = self._previous_handlers.get(signum, signal.SIG_DFL)
        self.restore()  # also puts the previous handler back
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        # SIG_IGN: the process ignored this signal before we came; keep ignoring it


class SessionClocks:
    """The clocks for a whole session: what was asked, whether a lock is in force, and snapshots."""

    def __init__(self, mode: ClockMode, observer: ClockObserver | None) -> None:
        self.clock_mode, self.observer = mode, observer
        self.lock: ClockLock | None = None
        self.error: str | None = None

    @property
    def mode(self) -> str:
        if self.lock is not None and self.lock.active:
            return f"locked {self.lock.locked_sm_mhz}/{self.lock.locked_mem_mhz} MHz"
        return "observe" if not self.clock_mode.lock else f"{self.clock_mode} (not in force)"

    def snapshot(self) -> ClockSnapshot | None:
        return self.observer.snapshot() if self.observer is not None else None

    def problem(self) -> str | None:
        """Why timings must not be scored: locking was asked for but is not in force."""
        if self.observer is None or not self.clock_mode.lock:
            return None
        if self.error:
            return self.error
        if self.lock is None or not self.lock.active:
            return "clock locking was asked for but the clocks are no longer locked"
        return None


@contextlib.contextmanager
def session_clocks(
    mode: str | ClockMode, device_index: int = 0, enabled: bool = True, nvml: Any | None = None
) -> Iterator[SessionClocks]:
    """Observe (default) or lock the clocks of CUDA device ``device_index`` for a session; restore at the end.

    A lock that fails does not raise here: ``problem()`` then says why, so timed items fail with that reason
    and untimed ones (correctness, bounds) still run.
    """
    clock_mode = parse_clock_mode(mode) if isinstance(mode, str) else mode
    if not enabled:
        yield SessionClocks(clock_mode, None)
        return
    index = nvml_index_for_cuda_device(device_index)
    state = SessionClocks(clock_mode, ClockObserver(index, nvml=nvml))
    if clock_mode.lock:
        lock = ClockLock(index, clock_mode.sm_mhz, clock_mode.mem_mhz, nvml=nvml)
        try:
            lock.lock()
            state.lock = lock
        except ClockError as exc:
            state.error = str(exc)
    try:
        yield state
    finally:
        if state.lock is not None:
            errors = state.lock.restore()
            if errors:
                warnings.warn(f"GPU {index}: could not restore clocks: {'; '.join(errors)}", RuntimeWarning)
