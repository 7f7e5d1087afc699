"""How a timestamp is taken: CUDA events on the current stream (graphs through torch.cuda.CUDAGraph), or the
host clock on CPU. ``timing.measure`` drives either through the same small interface; tests bring a fake device."""

from __future__ import annotations

import contextlib
import gc
import time
from typing import Any, Callable


class WallTimer:
    """Host clock; each call runs to completion on the CPU, so a mark is a perf_counter reading."""

    method = "wall"

    def scope(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def event(self) -> list[float]:
        return [0.0]

    def record(self, event: list[float]) -> None:
        event[0] = time.perf_counter()

    def elapsed_ms(self, start: list[float], end: list[float]) -> float:
        return (end[0] - start[0]) * 1e3

    def wait(self, event: Any) -> None:
        pass

    def sync_all(self) -> None:
        pass

    def capture(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        raise RuntimeError("graphs need a GPU")


class CudaTimer:
    """CUDA events on the current stream of ``device``; graphs through torch.cuda.CUDAGraph."""

    method = "cuda_events"

    def __init__(self, device: Any) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)

    def scope(self) -> contextlib.AbstractContextManager:
        return self.torch.cuda.device(self.device)

    def event(self) -> Any:
        return self.torch.cuda.Event(enable_timing=True)

    def record(self, event: Any) -> None:
        event.record()

    def elapsed_ms(self, start: Any, end: Any) -> float:
        return start.elapsed_time(end)

    def wait(self, event: Any) -> None:
        event.synchronize()

    def sync_all(self) -> None:
        self.torch.cuda.synchronize()  # every stream of the device, hidden side streams included

    def capture(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        torch = self.torch
        graph, stream = torch.cuda.CUDAGraph(), torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        gc_was_enabled = gc.isenabled()
        gc.disable()  # a collection during capture can unload Triton modules the graph refers to
        try:
            with torch.cuda.graph(graph, stream=stream):
                fn()
        finally:
            if gc_was_enabled:
                gc.enable()
            torch.cuda.current_stream().wait_stream(stream)
        return graph.replay
