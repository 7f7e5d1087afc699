"""Recording a model's ops: a TorchDispatchMode (and a TorchFunctionMode for ``F.rms_norm``) that times every op,
states the ones worth a kernel (``ops.describe``) and counts each distinct call.

Time, per op as it runs inside the mode:
- on CPU, wall time around the op (``time.perf_counter_ns``): the op's own kernel, synchronous on CPU;
- on CUDA, a pair of CUDA events recorded on the current stream around the op, the end event synchronised before
  the next op starts, so each op is timed alone on an idle stream (the device is synchronised when recording
  starts). Launch latency falls inside the window: for microsecond ops that is part of what they cost the model.
Every op is timed, described or not, so that each one's share is of the model's whole op time. Nothing is held
of the tensors themselves; the ops run exactly as they would without the mode, so outputs are unchanged.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pytest_solbench.captures.ops import DESCRIBERS, FUNCTIONAL, Call, LeftOut, describe
from pytest_solbench.sol.aten import tensors

WALL_CLOCK = "wall time per op on CPU (time.perf_counter_ns around each op)"
CUDA_EVENTS = "CUDA events around each op on its stream, synchronised after each op"


@dataclass(frozen=True)
class Counted:
    """How often something ran and how long it took in all."""

    calls: int
    time_ms: float


@dataclass(frozen=True)
class Recording:
    """What one capture saw: each distinct call stated as a problem, the calls left out (op, reason) and the rest."""

    calls: dict[Call, Counted]  # in order of first call
    left_out: dict[tuple[str, str], Counted]  # (op, why) -> tally
    other: Counted  # ops that are not worth a kernel of their own (views, element-wise, copies)
    clock: str  # WALL_CLOCK or CUDA_EVENTS (CUDA when any timed op ran on a GPU)
    cuda_device: str | None = None  # the GPU's name, when ops ran on one

    @property
    def total_ms(self) -> float:
        tallies = [*self.calls.values(), *self.left_out.values(), self.other]
        return sum(t.time_ms for t in tallies)


@dataclass
class _Tallies:
    calls: dict[Any, list] = field(default_factory=dict)
    left_out: dict[Any, list] = field(default_factory=dict)
    other: list = field(default_factory=lambda: [0, 0.0])
    inside: int = 0  # > 0 while a functional op is timed as a whole: its aten ops are part of it
    cuda_device: str | None = None

    def add(self, table: dict, key: Any, ms: float) -> None:
        tally = table.setdefault(key, [0, 0.0])
        tally[0] += 1
        tally[1] += ms

    def note(self, op: str, arguments: Callable[[], dict], out: Any, ms: float) -> None:
        """Tally one op; describing it must never break the model, so any failure becomes a left-out line."""
        if op not in DESCRIBERS:
            self.other[0] += 1
            self.other[1] += ms
            return
        try:
            call = describe(op, arguments(), out)
        except LeftOut as exc:
            self.add(self.left_out, (op, str(exc)), ms)
        except Exception as exc:  # a call shaped in a way the describer did not foresee
            self.add(self.left_out, (op, f"could not be stated as a problem ({type(exc).__name__}: {exc})"), ms)
        else:
            self.add(self.calls, call, ms)


def _schema_arguments(func: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """An aten op's arguments by their schema names, defaults filled in."""
    values = dict(kwargs)
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            values[arg.name] = args[i]
        elif arg.name not in values and arg.has_default_value():
            values[arg.name] = arg.default_value
    return values


def _python_arguments(func: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


class Recorder:
    """A context manager that records the ops run inside it; ``recording()`` gives what it saw."""

    def __init__(self) -> None:
        self._tallies = _Tallies()
        self._modes: list[Any] = []

    def __enter__(self) -> Recorder:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()  # work the model queued before the capture is not charged to its first op
        dispatch, function = _mode_classes()
        # torch.rms_norm imports torch._dynamo on first use under a mode (seconds on a CPU): not an op's time.
        import torch._dynamo  # noqa: F401
        self._modes = [function(self._tallies), dispatch(self._tallies)]
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
        self._modes = []

    def recording(self) -> Recording:
        t = self._tallies
        clock = CUDA_EVENTS if t.cuda_device else WALL_CLOCK
        return Recording(
            calls={k: Counted(*v) for k, v in t.calls.items()},
            left_out={k: Counted(*v) for k, v in t.left_out.items()},
            other=Counted(*t.other),
            clock=clock,
            cuda_device=t.cuda_device,
        )


def _timed(tallies: _Tallies, fn: Callable[[], Any], tensors: list) -> tuple[Any, float]:
    """Run ``fn`` and measure it: CUDA events when any tensor argument is on a GPU, else wall time."""
    device = next((t.device for t in tensors if t.device.type == "cuda"), None)
    if device is None:
        start_ns = time.perf_counter_ns()
        out = fn()
        return out, (time.perf_counter_ns() - start_ns) / 1e6
    import torch

    if tallies.cuda_device is None:
        tallies.cuda_device = torch.cuda.get_device_name(device)
    stream = torch.cuda.current_stream(device)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record(stream)
    out = fn()
    end.record(stream)
    end.synchronize()
    return out, start.elapsed_time(end)


_CLASSES: tuple[Any, Any] | None = None


def _mode_classes() -> tuple[Any, Any]:
    """The two mode classes, built on first use so that importing this module does not import torch."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class DispatchRecorder(TorchDispatchMode):
        def __init__(self, tallies: _Tallies) -> None:
            super().__init__()
            self.tallies = tallies

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if self.tallies.inside:
                return func(*args, **kwargs)
            out, ms = _timed(self.tallies, lambda: func(*args, **kwargs), tensors((args, kwargs)))
            self.tallies.note(func._schema.name, lambda: _schema_arguments(func, args, kwargs), out, ms)
            return out

    class FunctionRecorder(TorchFunctionMode):
        """Times and states the functional ops of ``ops.FUNCTIONAL`` as a whole, where they are called."""

        def __init__(self, tallies: _Tallies) -> None:
            super().__init__()
            self.tallies = tallies

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            op = FUNCTIONAL.get(getattr(func, "__name__", ""))
            if op is None or getattr(func, "__module__", "") != "torch.nn.functional" or self.tallies.inside:
                return func(*args, **kwargs)
            self.tallies.inside += 1
            try:
                out, ms = _timed(self.tallies, lambda: func(*args, **kwargs), tensors((args, kwargs)))
            finally:
                self.tallies.inside -= 1
            self.tallies.note(op, lambda: _python_arguments(func, args, kwargs), out, ms)
            return out

    _CLASSES = (DispatchRecorder, FunctionRecorder)
    return _CLASSES
