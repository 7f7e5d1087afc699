"""The timing contract: cold L2, fresh addresses, events without host syncs, warm-up, adaptive stopping."""

from __future__ import annotations

import contextlib
import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from pytest_solbench.measure.cupti import profiled_spans_ms
from pytest_solbench.measure.samples import Measurement, median_rel_error, summarize
from pytest_solbench.measure.timers import CudaTimer, WallTimer

MIN_FLUSH_BYTES = 256 * 1024 * 1024  # Triton's flush size; covers H100 (50 MB L2) and GB200 (~126 MB)


@dataclass(frozen=True)
class TimingConfig:
    warmup_ms: float = 100.0  # after one untimed first call (JIT, autotune)
    min_samples: int = 10
    max_samples: int = 1000
    min_time_s: float = 0.1  # the timed phase lasts at least this long (wall), so a lucky streak cannot end it
    max_time_s: float = 15.0  # wall cap of the timed phase, as nvbench's --timeout
    rel_noise_target: float = 0.005  # stop when SE(median)/median falls below this
    # "off" (default): plain events, with the flush kernel ahead hiding launch latency; on the H100 graph replay
    # read 5.4 us where plain events read 4.5 us and Nsight Compute 2.8 us. "auto": graphs under graph_below_ms.
    cuda_graph: str = "off"
    graph_below_ms: float = 0.010
    graph_copies: int = 4  # calls captured (one per input copy the caller rotates through)
    cold_l2: bool = True
    throttle_ratio: float = 0.75  # a batch whose SM clock reads below this share of the reference is dropped
    reference_sm_clock_mhz: float | None = None  # None: the highest SM clock the probe saw
    hidden_work_ratio: float = 0.5  # all-streams tail above this share of the median (and the floor) is suspect
    hidden_work_floor_ms: float = 0.1
    max_batch: int = 256
    # "events" (default) or "cupti": after the event-timed phase, time up to cupti_samples more calls from the
    # kernels' own CUPTI timestamps (torch.profiler / Kineto): first kernel start to last kernel end, any stream.
    timer: str = "events"
    cupti_samples: int = 200

    def __post_init__(self) -> None:
        if self.cuda_graph not in ("auto", "on", "off"):
            raise ValueError(f"cuda_graph must be 'auto', 'on' or 'off', got {self.cuda_graph!r}")
        if not 1 <= self.min_samples <= self.max_samples:
            raise ValueError(f"need 1 <= min_samples <= max_samples, got {self.min_samples}, {self.max_samples}")


def stop_reason(samples_ms: list[float], elapsed_s: float, config: TimingConfig) -> str | None:
    """Why the timed phase should end now, or None to go on."""
    n = len(samples_ms)
    if n >= config.max_samples:
        return "max_samples"
    if elapsed_s >= config.max_time_s:
        return "max_time"
    if n >= config.min_samples and elapsed_s >= config.min_time_s:
        if median_rel_error(samples_ms) < config.rel_noise_target:
            return "noise_target"
    return None


def flush_bytes(l2_bytes: int, min_bytes: int = MIN_FLUSH_BYTES) -> int:
    """Size of the buffer zeroed before each sample: max(2 x L2, 256 MiB)."""
    return max(2 * int(l2_bytes), min_bytes)


class L2Flusher:
    """Reads a buffer larger than L2 on the current stream, so the next sample starts with a cold, clean cache."""

    _cache: dict[str, L2Flusher] = {}

    def __init__(self, device: Any = "cuda", nbytes: int | None = None) -> None:
        import torch

        dev = torch.device(device)
        if dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        self.nbytes = int(nbytes) if nbytes else flush_bytes(torch.cuda.get_device_properties(dev).L2_cache_size)
        self.buffer = torch.zeros(self.nbytes // 4, dtype=torch.int32, device=dev)

    @classmethod
    def for_device(cls, device: Any = "cuda") -> L2Flusher:
        """One flusher per device per process; the buffer is allocated once."""
        key = str(device)
        if key not in cls._cache:
            cls._cache[key] = cls(device)
        return cls._cache[key]

    def __call__(self) -> None:
        # Read the buffer rather than write it: a write leaves L2 full of dirty lines that the timed kernel then
        # pays to write back (on the H100, do_bench-style zeroing made a 62 us element-wise kernel read 72 us
        # against Nsight Compute). Reading evicts everything, dirty lines included, and leaves clean ones.
        self.buffer.sum()


def _noop(*args: Any) -> None:
    pass


def measure(
    call: Callable[[int], Any],
    *,
    prepare: Callable[[int], Any] | None = None,
    device: Any = "cuda",
    config: TimingConfig = TimingConfig(),
    l2_flush: Callable[[], Any] | None = None,
    clock_probe: Callable[[], Any] | None = None,
    timer: Any = None,
    input_set: Callable[[int], int] | None = None,
) -> Measurement:
    """Time ``call(i)``; the caller rotates its input copies by ``i`` and ``prepare(i)`` re-poisons outputs
    outside the timed window. ``timer`` replaces the CUDA/wall timer (tests pass a fake device). ``input_set(i)``:
    the input set call ``i`` uses (the kernel sets CUPTI saw are told per input set: a kernel may launch other
    kernels on other values, a softmax variant chosen by a data-dependent length, but not on the same ones)."""
    started = time.perf_counter()
    cpu = str(device).startswith("cpu")
    timer = timer if timer is not None else (WallTimer() if cpu else CudaTimer(device))
    with timer.scope():
        return _Run(call, prepare or _noop, timer, config, l2_flush, clock_probe, device, started,
                    input_set=input_set or (lambda i: 0)).run()  # fmt: skip


IDLE_TAILS = 5  # syncs with nothing queued, the least of which the tails after timed batches are measured from


@dataclass
class _Run:
    call: Callable[[int], Any]
    prepare: Callable[[int], Any]
    timer: Any
    config: TimingConfig
    flush: Callable[[], Any] | None
    probe: Callable[[], Any] | None
    device: Any
    started: float
    notes: list[str] = field(default_factory=list)
    tails_ms: list[float] = field(default_factory=list)
    seen_clocks: list[float] = field(default_factory=list)
    events: list[tuple[Any, Any]] = field(default_factory=list)
    graphs: list[tuple[int, Callable[[], Any]]] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)
    kernel_sets: list[frozenset[str]] = field(default_factory=list)
    input_set: Callable[[int], int] = lambda i: 0
    kernel_set_inputs: list[int] = field(default_factory=list)  # the input set of each of ``kernel_sets``

    def run(self) -> Measurement:
        config = self.config
        if self.flush is None:
            gpu_cold = config.cold_l2 and self.timer.method != "wall"
            self.flush = L2Flusher.for_device(self.device) if gpu_cold else _noop
        before = self._probe()
        self._note_clock(before)
        warmup_calls, estimate_ms = self._warm_up()
        method = self.timer.method
        if config.cuda_graph == "on" or (config.cuda_graph == "auto" and estimate_ms < config.graph_below_ms):
            if method != "wall" and self._capture():
                method = "cuda_graph"
        idle_ms = self._idle_tail_ms()
        samples, dropped, reason = self._timed_phase()
        if config.timer == "cupti" and method != "wall":
            spans = self._profiled(min(max(len(samples), config.min_samples), config.cupti_samples))
            if spans:
                self.notes.append(f"events read a median of {statistics.median(samples):.5g} ms; CUPTI kernel spans used")
                samples, method = spans, "cupti"
        after = self._probe()
        if reason != "noise_target":
            self.notes.append(f"stopped at {reason} with relative noise {median_rel_error(samples):.2%}")
        median = statistics.median(samples)
        tail = min(self.tails_ms) if self.tails_ms else None
        beyond = None if tail is None else tail - idle_ms  # what the host alone costs is not hidden work
        hidden = beyond is not None and beyond > max(config.hidden_work_ratio * median, config.hidden_work_floor_ms)
        if hidden:
            self.notes.append(
                f"the device stayed busy {beyond:.3f} ms after the last timed event (median {median:.3f} ms; "
                f"{tail:.3f} ms less {idle_ms:.3f} ms, the same wait with nothing queued): work on another stream "
                "is not timed"
            )
        return summarize(
            samples,
            method,
            warmup_calls=warmup_calls,
            wall_time_s=time.perf_counter() - self.started,
            throttled_samples_dropped=dropped,
            hidden_work_suspected=hidden,
            throttled=dropped > 0 or bool(getattr(after, "throttled", False)),
            stop_reason=reason,
            all_streams_tail_ms=tail,
            clocks_before=before,
            clocks_after=after,
            notes=tuple(self.notes),
            kernel_names=tuple(sorted(set().union(*self.kernel_sets))) if self.kernel_sets else (),
            calls_without_kernels=sum(1 for s in self.kernel_sets if not s),
            **self._by_input_set(),
        )

    def _by_input_set(self) -> dict[str, Any]:
        """The kernel sets per input set: the most distinct ones among one set's calls, and each set's kernels."""
        groups: dict[int, set[frozenset[str]]] = {}
        for names, k in zip(self.kernel_sets, self.kernel_set_inputs):
            groups.setdefault(k, set()).add(names)
        by_set = tuple(tuple(sorted(set().union(*groups.get(k, ())))) for k in range(max(groups, default=-1) + 1))
        return {"distinct_kernel_sets": max(map(len, groups.values()), default=0), "kernel_names_by_set": by_set}

    def _warm_up(self) -> tuple[int, float]:
        """One untimed call (JIT, autotune), then whole samples until warmup_ms has passed; returns the call
        count and the median warm-up sample, which decides whether to use graphs."""
        i = next(self.counter)
        self.prepare(i)
        self.call(i)
        self.timer.sync_all()
        calls, warm, size = 1, [], 1
        deadline = time.perf_counter() + self.config.warmup_ms / 1e3
        while not warm or time.perf_counter() < deadline:
            warm += self._batch(size)
            calls += size
            size = min(size * 2, self.config.max_batch)
        self.tails_ms.clear()
        return calls, statistics.median(warm)

    def _idle_tail_ms(self) -> float:
        """The least of a few waits on an event and syncs of the device with nothing queued: what the host itself
        takes to sync, less than a tail shows with work left. Not subtracted, an honest 173 us RMSNorm read a tail of
        0.112 ms on an H100 host whose syncs were slow, and was failed ``hidden-work`` (session 15)."""
        timer = self.timer
        host_clock = getattr(timer, "host_clock", time.perf_counter)
        tails = []
        for _ in range(IDLE_TAILS):
            event = timer.event()
            timer.record(event)
            timer.wait(event)
            waited = host_clock()
            timer.sync_all()
            tails.append((host_clock() - waited) * 1e3)
        return min(tails)

    def _timed_phase(self) -> tuple[list[float], int, str]:
        """Batches of samples with one host sync each, until the stopping rule says enough."""
        config = self.config
        samples: list[float] = []
        dropped: list[float] = []
        loop_start = time.perf_counter()
        size = config.min_samples
        while True:
            times = self._batch(size)
            (dropped if self._throttled(self._probe()) else samples).extend(times)
            elapsed = time.perf_counter() - loop_start
            reason = stop_reason(samples, elapsed, config)
            if reason is None and not samples and elapsed >= config.max_time_s:
                reason = "max_time"
            if reason:
                break
            per_sample_s = elapsed / (len(samples) + len(dropped))
            room = int((config.max_time_s - elapsed) / per_sample_s) if per_sample_s > 0 else config.max_batch
            grow = max(len(samples), config.min_samples)  # doubles the total, so noise is checked ever less often
            size = max(1, min(grow, config.max_batch, room, config.max_samples - len(samples)))
        if not samples:  # every batch ran throttled: keep them rather than report nothing, and say so
            self.notes.append("every batch ran with the SM clock throttled; samples kept")
            return dropped, 0, reason
        return samples, len(dropped), reason

    def _profiled(self, n: int) -> list[float]:
        """n more samples timed by CUPTI through torch.profiler, and the kernels each launched; [] (with a note)
        when the profiler cannot run here. An error the kernel's call raised is raised (the judge refuses a fallback
        to events where CUPTI named the checked calls' kernels: ``judge.timed._timer_kept``)."""
        raised: list[BaseException] = []

        def call(i: int) -> Any:
            try:
                return self.call(i)
            except BaseException as exc:  # the kernel's own error: its item's, not the profiler's
                raised.append(exc)
                raise

        try:
            indices = [next(self.counter) for _ in range(n)]
            spans, sets = profiled_spans_ms(call, self.prepare, self.flush or _noop, indices)
        except Exception as exc:
            if raised:
                raise raised[0] from None
            self.notes.append(f"CUPTI timing failed ({type(exc).__name__}: {exc}); events used")
            return []
        self.kernel_sets = sets
        self.kernel_set_inputs = [self.input_set(i) for i in indices]
        return spans

    def _note_clock(self, snapshot: Any) -> float | None:
        clock = getattr(snapshot, "sm_clock_mhz", None)
        if clock:
            self.seen_clocks.append(clock)
        return clock

    def _throttled(self, snapshot: Any) -> bool:
        """nvbench's rule on NVML readings: throttled, and the SM clock under throttle_ratio of the reference."""
        clock = self._note_clock(snapshot)
        reference = self.config.reference_sm_clock_mhz or max(self.seen_clocks, default=None)
        throttled = bool(getattr(snapshot, "throttled", False))
        return bool(clock and reference and throttled and clock < self.config.throttle_ratio * reference)

    def _probe(self) -> Any:
        if self.probe is None:
            return None
        try:
            return self.probe()
        except Exception as exc:  # observation never breaks a measurement
            self.notes.append(f"clock probe failed: {exc}")
            self.probe = None
            return None

    def _capture(self) -> bool:
        """Capture one graph per input copy; on failure (a sync or cudaMalloc in the call) keep plain events."""
        try:
            for _ in range(self.config.graph_copies):
                i = next(self.counter)
                self.prepare(i)
                self.graphs.append((i, self.timer.capture(lambda i=i: self.call(i))))
            for i, replay in self.graphs:  # first replays upload the graphs; not timed
                self.prepare(i)
                replay()
            self.timer.sync_all()
            return True
        except Exception as exc:
            self.graphs.clear()
            self.notes.append(f"CUDA graph capture failed ({type(exc).__name__}: {exc}); timed with plain events")
            with contextlib.suppress(Exception):
                self.timer.sync_all()
            return False

    def _batch(self, n: int) -> list[float]:
        """n samples without a host sync between them: prepare, flush, start, call, end; then one wait."""
        timer, flush = self.timer, self.flush
        while len(self.events) < n:
            self.events.append((timer.event(), timer.event()))
        for k in range(n):
            start, end = self.events[k]
            if self.graphs:
                i, replay = self.graphs[next(self.counter) % len(self.graphs)]
                self.prepare(i)
                flush()
                timer.record(start)
                replay()
            else:
                i = next(self.counter)
                self.prepare(i)
                flush()
                timer.record(start)
                self.call(i)
            timer.record(end)
        timer.wait(self.events[n - 1][1])
        host_clock = getattr(timer, "host_clock", time.perf_counter)  # a fake device brings its own host clock
        waited = host_clock()
        timer.sync_all()
        self.tails_ms.append((host_clock() - waited) * 1e3)
        return [timer.elapsed_ms(*self.events[k]) for k in range(n)]


def run_batch(call: Callable[[int], Any], *, prepare: Callable[[int], Any], flush: Callable[[], Any] | None, n: int,
              device: Any = "cuda") -> None:
    """``n`` calls back to back as the timed phase makes them (prepare, flush, call) with one host sync at the end:
    the batch a judge times from outside the kernel's process (``judge.corroborate``)."""
    for i in range(n):
        prepare(i)
        if flush is not None:
            flush()
        call(i)
    if not str(device).startswith("cpu"):
        import torch

        torch.cuda.synchronize()
