"""Timing any callable from one's own test (the ``solbench_time`` fixture), under the contract the items keep:
each call sees fresh input addresses (rotated clones of its tensor arguments), L2 is cold before every sample,
a warm-up, then samples until the median is stable or the time cap; CUPTI spans on every stream by default,
clocks read around the phase. The result is a ``timing.Measurement`` (median_ms, min_ms, q1/q3, n, samples_ms).

Nothing checks correctness here: that is the test's own business (or an item's, for a problem's kernel)."""

from __future__ import annotations

from typing import Any, Callable

from pytest_solbench.measure.timing import Measurement

ROTATION_BYTES = 512 * 1024 * 1024  # input copies kept for fresh addresses, at most (and 2 to 8 copies)


def time_call(fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any], *, device: str | None = None,
              max_time_s: float = 2.0, timer: str = "cupti", cold_l2: bool = True) -> Measurement:  # fmt: skip
    """Time ``fn(*args, **kwargs)``; ``device`` defaults to the first tensor argument's (else ``cuda``). On a CPU
    device it runs with a wall-clock timer and no L2 flush (for tests of this function; the fixture skips)."""
    import torch

    from pytest_solbench.measure import timing

    tensors = [a for a in _leaves((args, kwargs)) if isinstance(a, torch.Tensor)]
    device = device or (str(tensors[0].device) if tensors else "cuda")
    nbytes = sum(t.numel() * t.element_size() for t in tensors)
    copies = max(2, min(8, ROTATION_BYTES // max(nbytes, 1)))
    arg_sets = [(args, kwargs)] + [_clone((args, kwargs)) for _ in range(copies - 1)]

    def call(i: int) -> None:
        a, k = arg_sets[i % copies]
        fn(*a, **k)

    cuda = device.startswith("cuda")
    config = timing.TimingConfig(max_time_s=max_time_s, timer=timer if cuda else "events", cold_l2=cuda and cold_l2)
    flusher = timing.L2Flusher.for_device(device) if config.cold_l2 else None
    probe = None
    if cuda:
        from pytest_solbench.measure import clocks

        index = torch.device(device).index
        observer = clocks.ClockObserver(clocks.nvml_index_for_cuda_device(torch.cuda.current_device()
                                                                          if index is None else index))  # fmt: skip
        probe = observer.snapshot if observer.available else None
    return timing.measure(call, device=device, config=config, l2_flush=flusher, clock_probe=probe)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return [value]


def _clone(value: Any) -> Any:
    """Tensors cloned (a fresh address, the same values), containers rebuilt, anything else shared."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_clone(v) for v in value)
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value
