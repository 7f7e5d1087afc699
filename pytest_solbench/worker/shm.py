"""Tensors the judge owns and a kernel's process may read and write: shared memory, described as plain data.

The judge (``Arena``) places each tensor in memory of its own and describes it with a dict of plain values; the
kernel's process (``attach``) rebuilds a tensor over the same memory from that dict. Nothing but the description
crosses, so the judge reads the very bytes the kernel wrote, and what it checks was never a Python object the
kernel could hand over.

- CPU: a file per tensor under ``/dev/shm`` (the temp folder where there is none), mapped ``MAP_SHARED`` on both
  sides; ``torch.frombuffer`` over the mapping, so each tensor's storage is exactly its own bytes.
- CUDA: one allocation per tensor, shared through a CUDA IPC handle as ``torch.multiprocessing.reductions`` does it:
  ``storage._share_cuda_()`` on the judge's side, ``torch.UntypedStorage._new_shared_cuda(*handle)`` on the kernel's
  (private API, the same 8-tuple in torch 2.11 and 2.13; the byte strings travel as hex).

Every tensor is contiguous and alone in its storage, whether a correctness round or a timed call made it: nothing
about its memory tells the two apart. A Python scalar input travels as its value.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from typing import Any

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def torch_dtype(name: str) -> Any:
    import torch

    value = getattr(torch, str(name), None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown dtype {name!r}")
    return value


class Arena:
    """The judge's side: shared tensors for one exchange with a kernel's process; ``close()`` frees them all."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._paths: list[str] = []
        self._keep: list[Any] = []  # the mappings and CUDA blocks behind every tensor handed out

    def __enter__(self) -> Arena:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def share(self, value: Any) -> tuple[Any, dict[str, Any]]:
        """A shared copy of ``value`` (a tensor; anything else is passed by value) and its description."""
        import torch

        if not isinstance(value, torch.Tensor):
            return value, {"kind": "value", "value": value}
        shared, desc = self.empty(tuple(value.shape), value.dtype)
        if value.numel():
            _bytes(shared).copy_(_bytes(value.detach().contiguous()))
        return shared, desc

    def empty(self, shape: tuple[int, ...], dtype: Any) -> tuple[Any, dict[str, Any]]:
        """An uninitialized shared tensor and its description."""
        import torch

        numel = 1
        for size in shape:
            numel *= int(size)
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        base = {"dtype": dtype_name(dtype), "shape": [int(s) for s in shape]}
        if nbytes == 0:
            return torch.empty(shape, dtype=dtype, device=self.device), {"kind": "empty", **base}
        if self.device.startswith("cuda"):
            block = torch.empty(nbytes, dtype=torch.uint8, device=self.device)
            handle = block.untyped_storage()._share_cuda_()
            self._keep.append(block)
            return block.view(dtype).reshape(shape), {"kind": "cuda", "ipc": _plain_handle(handle), **base}
        fd, path = tempfile.mkstemp(prefix="solbench-", dir=_SHM_DIR)
        try:
            os.ftruncate(fd, nbytes)
            mapping = mmap.mmap(fd, nbytes)
        finally:
            os.close(fd)
        self._paths.append(path)
        self._keep.append(mapping)
        tensor = torch.frombuffer(mapping, dtype=torch.uint8, count=nbytes).view(dtype).reshape(shape)
        return tensor, {"kind": "cpu", "path": path, "nbytes": nbytes, **base}

    def close(self) -> None:
        for path in self._paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        self._paths.clear()
        self._keep.clear()  # mappings close when the last tensor over them goes


def _bytes(tensor: Any) -> Any:
    import torch

    return tensor.reshape(-1).view(torch.uint8)


def _plain_handle(handle: tuple) -> list[Any]:
    return [x.hex() if isinstance(x, (bytes, bytearray)) else x for x in handle]


def attach(desc: dict[str, Any], device: str) -> Any:
    """The kernel's side: the tensor (or value) a description names, over the judge's memory."""
    import torch

    kind = desc["kind"]
    if kind == "value":
        return desc["value"]
    dtype, shape = torch_dtype(desc["dtype"]), tuple(desc["shape"])
    if kind == "empty":
        return torch.empty(shape, dtype=dtype, device=device)
    if kind == "cpu":
        fd = os.open(desc["path"], os.O_RDWR)
        try:
            mapping = mmap.mmap(fd, desc["nbytes"])
        finally:
            os.close(fd)
        return torch.frombuffer(mapping, dtype=torch.uint8, count=desc["nbytes"]).view(dtype).reshape(shape)
    if kind == "cuda":
        (dev, handle, size, offset, ref_handle, ref_offset, event_handle, event_sync) = desc["ipc"]
        torch.cuda._lazy_init()
        storage = torch.UntypedStorage._new_shared_cuda(
            dev, bytes.fromhex(handle), size, offset, bytes.fromhex(ref_handle), ref_offset,
            bytes.fromhex(event_handle) if isinstance(event_handle, str) else event_handle, event_sync,
        )  # fmt: skip
        block = torch.empty(0, dtype=torch.uint8, device=f"cuda:{dev}").set_(storage)
        return block.view(dtype).reshape(shape)
    raise ValueError(f"unknown shared tensor kind {kind!r}")
