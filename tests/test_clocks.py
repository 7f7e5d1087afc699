"""clocks.py against a fake NVML: observation, decoding, locking, and restoring in every way out."""

from __future__ import annotations

import os
import signal

import pytest

from pytest_solbench.measure.clocks import (
    ClockError,
    ClockMode,
    ClockObserver,
    ClockSnapshot,
    decode_reasons,
    nvml_index_for_cuda_device,
    parse_clock_mode,
)
from pytest_solbench.measure.session_clocks import ClockLock, session_clocks


class FakeNVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


class FakeNVML:
    """Just enough of pynvml; records every call. Locking moves the clocks a real GPU would report."""

    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU = 1, 2, 0
    NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_NO_PERMISSION = 3, 4
    NVML_CLOCK_LIMIT_ID_TDP = 0xFFFFFF01
    BASE_SM = 1590

    def __init__(self, *, permission=True, mem_lock_supported=True, sm_sticks=True, reasons=0x0, broken=False):
        self.calls: list[tuple] = []
        self.permission, self.mem_lock_supported, self.sm_sticks = permission, mem_lock_supported, sm_sticks
        self.broken, self.reasons = broken, reasons
        self.sm, self.mem = 1980, 2619

    def _log(self, name, *args):
        self.calls.append((name, *args))

    def names(self):
        return [call[0] for call in self.calls]

    def nvmlInit(self):
        self._log("nvmlInit")
        if self.broken:
            raise FakeNVMLError(12)

    def nvmlDeviceGetHandleByIndex(self, index):
        return ("handle", index)

    def nvmlDeviceGetClockInfo(self, handle, kind):
        return self.sm if kind == self.NVML_CLOCK_SM else self.mem

    def nvmlDeviceGetMaxClockInfo(self, handle, kind):
        return 1980 if kind == self.NVML_CLOCK_SM else 2619

    def nvmlDeviceGetDefaultApplicationsClock(self, handle, kind):
        return 1755

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        return self.reasons

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 41

    def nvmlDeviceGetPowerUsage(self, handle):
        raise FakeNVMLError(self.NVML_ERROR_NOT_SUPPORTED)  # one field failing must not spoil the others

    def nvmlDeviceSetGpuLockedClocks(self, handle, lo, hi):
        self._log("SetGpuLockedClocks", lo, hi)
        if not self.permission:
            raise FakeNVMLError(self.NVML_ERROR_NO_PERMISSION)
        if self.sm_sticks:
            self.sm = self.BASE_SM if lo == self.NVML_CLOCK_LIMIT_ID_TDP else lo

    def nvmlDeviceSetMemoryLockedClocks(self, handle, lo, hi):
        self._log("SetMemoryLockedClocks", lo, hi)
        if not self.mem_lock_supported:
            raise FakeNVMLError(self.NVML_ERROR_NOT_SUPPORTED)
        self.mem = lo

    def nvmlDeviceResetGpuLockedClocks(self, handle):
        self._log("ResetGpuLockedClocks")
        self.sm = 1980

    def nvmlDeviceResetMemoryLockedClocks(self, handle):
        self._log("ResetMemoryLockedClocks")
        self.mem = 2619


def no_sleep(seconds: float) -> None:
    pass


# ------------------------------------------------------------------ parsing and decoding


@pytest.mark.parametrize(
    "text, mode",
    [
        ("observe", ClockMode()),
        ("lock", ClockMode(lock=True)),
        ("lock=1410", ClockMode(lock=True, sm_mhz=1410)),
        (" LOCK=1410, 1593 ", ClockMode(lock=True, sm_mhz=1410, mem_mhz=1593)),
    ],
)
def test_parse_clock_mode(text, mode):
    assert parse_clock_mode(text) == mode
    assert parse_clock_mode(str(mode)) == mode  # str() round-trips


@pytest.mark.parametrize("text", ["", "locked", "lock=", "lock=fast", "lock=1410,", "lock=0", "observe=1"])
def test_parse_clock_mode_rejects_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="expected observe, lock, lock=SM or lock=SM,MEM|positive"):
        parse_clock_mode(text)


def test_decode_reasons_names_bits_and_keeps_unknown_ones():
    assert decode_reasons(0) == ()
    assert decode_reasons(0x1 | 0x4 | 0x40) == ("gpu_idle", "sw_power_cap", "hw_thermal")
    assert decode_reasons(0x1000) == ("unknown_0x1000",)


def test_idle_and_application_clocks_are_not_throttling():
    assert not ClockSnapshot(throttle_reasons=("gpu_idle", "applications_clocks_setting")).throttled
    for reason in ("sw_power_cap", "hw_slowdown", "sw_thermal", "hw_thermal", "hw_power_brake"):
        assert ClockSnapshot(throttle_reasons=("gpu_idle", reason)).throttled


# ------------------------------------------------------------------ observing


def test_observer_snapshot_reads_every_field_it_can():
    nvml = FakeNVML(reasons=0x4)
    snap = ClockObserver(0, nvml=nvml).snapshot()
    assert (snap.sm_clock_mhz, snap.mem_clock_mhz, snap.temperature_c) == (1980, 2619, 41)
    assert snap.power_w is None  # not supported, the rest still read
    assert snap.throttle_reasons == ("sw_power_cap",) and snap.throttled
    assert snap.to_dict()["throttled"] is True


def test_observer_degrades_when_nvml_is_missing():
    observer = ClockObserver(0, nvml=FakeNVML(broken=True))
    snap = observer.snapshot()
    assert snap.sm_clock_mhz is None and not snap.throttled
    assert "NVML unavailable" in snap.error
    assert observer.default_sm_clock_mhz() is None and observer.max_sm_clock_mhz() is None
    assert not observer.available


def test_observer_clock_queries():
    observer = ClockObserver(0, nvml=FakeNVML())
    assert observer.default_sm_clock_mhz() == 1755
    assert (observer.max_sm_clock_mhz(), observer.max_mem_clock_mhz()) == (1980, 2619)
    assert observer() == observer.snapshot()  # usable as timing.measure's clock_probe


# ------------------------------------------------------------------ locking


def test_lock_sets_verifies_and_restores():
    nvml = FakeNVML()
    with ClockLock(0, sm_mhz=1410, mem_mhz=1593, nvml=nvml, sleep=no_sleep) as lock:
        assert (nvml.sm, nvml.mem) == (1410, 1593)
        assert (lock.locked_sm_mhz, lock.locked_mem_mhz) == (1410, 1593) and lock.active
    assert nvml.calls[-2:] == [("ResetGpuLockedClocks",), ("ResetMemoryLockedClocks",)]
    assert (nvml.sm, nvml.mem) == (1980, 2619) and not lock.active


def test_lock_defaults_to_base_sm_and_max_memory():
    nvml = FakeNVML()
    with ClockLock(0, nvml=nvml, sleep=no_sleep) as lock:
        assert ("SetGpuLockedClocks", nvml.NVML_CLOCK_LIMIT_ID_TDP, nvml.NVML_CLOCK_LIMIT_ID_TDP) in nvml.calls
        assert ("SetMemoryLockedClocks", 2619, 2619) in nvml.calls
        assert lock.locked_sm_mhz == FakeNVML.BASE_SM


def test_hbm_board_that_refuses_a_default_memory_lock_still_locks_sm():
    nvml = FakeNVML(mem_lock_supported=False)
    with ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep):
        assert nvml.sm == 1410
    assert "ResetMemoryLockedClocks" not in nvml.names()  # it never locked memory, so it does not reset it
    assert "ResetGpuLockedClocks" in nvml.names()


def test_explicit_memory_clock_that_cannot_be_locked_fails_and_restores_sm():
    nvml = FakeNVML(mem_lock_supported=False)
    with pytest.raises(ClockError, match="locking the memory clock failed"):
        ClockLock(0, sm_mhz=1410, mem_mhz=1593, nvml=nvml, sleep=no_sleep).lock()
    assert nvml.names()[-1] == "ResetGpuLockedClocks" and nvml.sm == 1980


def test_no_permission_says_how_to_go_on():
    nvml = FakeNVML(permission=False)
    with pytest.raises(ClockError, match="needs root.*--solbench-clocks observe"):
        with ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep):
            pytest.fail("the block must not run")
    assert "ResetGpuLockedClocks" not in nvml.names()  # nothing was set, nothing to undo


def test_verification_failure_restores():
    nvml = FakeNVML(sm_sticks=False)  # the driver accepts the call but the clock stays at 1980
    with pytest.raises(ClockError, match="SM clock reads 1980 MHz, asked for 1410"):
        ClockLock(0, sm_mhz=1410, nvml=nvml, settle_s=0.0, sleep=no_sleep).lock()
    assert "ResetGpuLockedClocks" in nvml.names() and "ResetMemoryLockedClocks" in nvml.names()


def test_crash_inside_the_block_restores_and_propagates():
    nvml = FakeNVML()
    with pytest.raises(ZeroDivisionError):
        with ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep):
            1 / 0
    assert nvml.names().count("ResetGpuLockedClocks") == 1 and nvml.sm == 1980


def test_restore_is_idempotent_and_atexit_is_registered_only_while_locked(monkeypatch):
    registered: list = []
    monkeypatch.setattr("atexit.register", registered.append)
    monkeypatch.setattr("atexit.unregister", lambda fn: registered.remove(fn) if fn in registered else None)
    nvml = FakeNVML()
    lock = ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep)
    lock.lock()
    assert registered == [lock.restore]
    registered[0]()  # what the interpreter would run at exit
    assert registered == [] and nvml.names().count("ResetGpuLockedClocks") == 1
    assert lock.restore() == [] and nvml.names().count("ResetGpuLockedClocks") == 1


def test_sigterm_restores_then_chains_the_previous_handler():
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        nvml = FakeNVML()
        lock = ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep)
        lock.lock()
        signal.raise_signal(signal.SIGTERM)  # to this thread: see the SIGINT test
        assert seen == [signal.SIGTERM]  # the handler that was there before ran
        assert nvml.sm == 1980 and "ResetGpuLockedClocks" in nvml.names()
        assert signal.getsignal(signal.SIGTERM) is not lock._on_signal  # handler put back
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_with_the_default_handler_restores_then_dies_by_the_signal(monkeypatch):
    """With no handler before ours, the clocks come back and the signal is raised again under its default action
    (the process dies of it, as it would have). A found defect: ``os`` was not imported there."""
    from pytest_solbench.measure import session_clocks

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raised: list = []
    monkeypatch.setattr(session_clocks.os, "kill", lambda pid, signum: raised.append((pid, signum)))
    try:
        nvml = FakeNVML()
        lock = ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep)
        lock.lock()
        lock._on_signal(signal.SIGTERM, None)  # as the interpreter would call it
        assert raised == [(os.getpid(), signal.SIGTERM)]
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert nvml.sm == 1980 and "ResetGpuLockedClocks" in nvml.names()
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def plain_sigint():
    """SIGINT as a fresh interpreter has it: Python's handler, not blocked in this thread. What an earlier test in
    the same worker left (a handler, a blocked mask) is put aside and back, so the test sees only the lock's."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are set only from the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, previous)


def test_sigint_restores_and_still_interrupts(plain_sigint):
    nvml = FakeNVML()
    lock = ClockLock(0, sm_mhz=1410, nvml=nvml, sleep=no_sleep)
    with pytest.raises(KeyboardInterrupt):
        with lock:
            # To this thread (raise(3)), not the process: a process-directed signal may land on another thread of
            # the worker, whose C handler can run only after this block on a loaded machine (a flaky DID NOT RAISE).
            signal.raise_signal(signal.SIGINT)
            for _ in range(1000):  # the handler runs at the next bytecode boundary
                pass
    assert nvml.names().count("ResetGpuLockedClocks") == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------ a session's clocks


def test_session_observes_by_default():
    nvml = FakeNVML()
    with session_clocks("observe", nvml=nvml) as state:
        assert state.snapshot().sm_clock_mhz == 1980
        assert state.problem() is None and state.mode == "observe"
    assert not any(name.startswith(("Set", "Reset")) for name in nvml.names())  # observing never changes clocks


def test_session_lock_holds_for_the_session_then_restores():
    nvml = FakeNVML()
    with session_clocks("lock=1410,1593", nvml=nvml) as state:
        assert nvml.sm == 1410 and state.problem() is None
        assert state.mode == "locked 1410/1593 MHz"
    assert (nvml.sm, nvml.mem) == (1980, 2619)


def test_session_lock_without_rights_refuses_to_score_instead_of_raising():
    nvml = FakeNVML(permission=False)
    with session_clocks("lock", nvml=nvml) as state:
        assert "needs root" in state.problem()
        assert state.snapshot().sm_clock_mhz == 1980  # still observed
        assert "not in force" in state.mode


def test_session_on_cpu_neither_observes_nor_complains():
    with session_clocks("lock", enabled=False, nvml=FakeNVML()) as state:
        assert state.snapshot() is None and state.problem() is None


def test_cuda_index_maps_through_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    assert (nvml_index_for_cuda_device(0), nvml_index_for_cuda_device(1)) == (3, 1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1234abcd")
    assert nvml_index_for_cuda_device(0) == 0
