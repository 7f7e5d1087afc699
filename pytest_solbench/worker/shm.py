"""Tensors the judge owns and a kernel's process may read and write: shared memory, described as plain data.

The judge (``Arena``) places each tensor in memory of its own and describes it with a dict of plain values; the
kernel's process (``attach``) rebuilds a tensor over the same memory from that dict. Nothing but the description
crosses, so the judge reads the very bytes the kernel wrote, and what it checks was never a Python object the
kernel could hand over.

- CPU: a sealed memfd per tensor (Linux), passed to the kernel's process over its channel with ``SCM_RIGHTS``
  (``worker.pool``: the request names each by its number in the judge, ``passed_fds``) and mapped ``MAP_SHARED``
  there (``torch.frombuffer`` over the mapping, so each tensor's storage is exactly its own bytes). Its seals
  (``F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL``) fix its size for good: a kernel's process that keeps the
  descriptor can neither cut it (a SIGBUS; red-team round 7, h02) nor grow it (memory of the machine's; round 7b,
  i02), and no file of the judge's lies in ``/dev/shm`` at all. Where there are no memfds or no seals (not Linux),
  a file per tensor under ``/dev/shm`` (the temp folder where it has no room), opened by path: the kernel's user
  can cut or grow that, so its size is checked around each exchange (``Arena.push``, ``Arena.pull``). Either
  way the judge never maps them: its tensor is its own memory, written to the memfd or file before each request
  (``Arena.push``) and read back after each reply (``Arena.pull``) with plain reads and writes, so what a process of
  the kernel's writes after the reply is not what the judge checks. Each kernel's pool has folders of its own for
  the files (``own_folders``): under confinement its process sees those and a private ``/dev/shm`` of its own,
  nothing of another kernel's (``guard.confine``, ``private-shm``).
- CUDA: one allocation per tensor, shared through a CUDA IPC handle as ``torch.multiprocessing.reductions`` does it:
  ``storage._share_cuda_()`` on the judge's side, ``torch.UntypedStorage._new_shared_cuda(*handle)`` on the kernel's
  (private API, the same 8-tuple in torch 2.11 and 2.13; the byte strings travel as hex).

Every tensor is contiguous and alone in its storage, whether a correctness round or a timed call made it: nothing
about its memory tells the two apart. On the GPU shared tensors come from a memory pool of their own, since an IPC
handle maps the whole allocator segment around a block. A Python scalar input travels as its value.
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile
from typing import Any, Iterator

from pytest_solbench.worker.cuda_blocks import (MEMORY_LOG, SHARED, exchanged, let_go, new_pool, release_ipc_counts,
                                                shared_segments)  # fmt: skip

SHM = "/dev/shm"
MEMFD_NAME = "solbench-shared"  # what /proc/<pid>/maps and fd links show of each sealed memfd: "/memfd:<this>"


def _can_seal() -> bool:
    """Whether tensors can be sealed memfds here: Linux, with ``os.memfd_create`` and the seals in ``fcntl``, and a
    kernel and sandbox that let one be made and sealed (tried once)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "memfd_create"):
        return False
    import fcntl

    if not all(hasattr(fcntl, name) for name in ("F_ADD_SEALS", "F_SEAL_SHRINK", "F_SEAL_GROW", "F_SEAL_SEAL")):
        return False
    try:
        os.close(sealed_memfd(1))
    except OSError:
        return False
    return True


def sealed_memfd(nbytes: int) -> int:
    """A new memfd of ``nbytes`` whose size no process can change again: shrinking, growing and adding seals are
    refused (EPERM) to every holder of it, the judge included, so a kernel's process that keeps it cannot cut it
    under the judge or grow it into the machine's memory. Writes within it stay allowed (the kernel's outputs)."""
    import fcntl

    fd = os.memfd_create(MEMFD_NAME, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, nbytes)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
    except BaseException:
        os.close(fd)
        raise
    return fd


MEMFDS = _can_seal()  # False: every CPU tensor is a file in the judge's folders (``Arena.empty``)


def passed_fds(payload: Any) -> list[int]:
    """The judge's descriptors a request's payload names (its memfd tensors), each once, in the order they come:
    what goes with the request to the kernel's process (``worker.pool``), which finds each by that number."""
    return list(dict.fromkeys(desc["fd"] for desc in _descriptions(payload) if desc.get("kind") == "memfd"))


def _descriptions(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _descriptions(item)


def _folder_for(nbytes: int, folders: tuple[str, ...] = ()) -> str:
    """The first of ``folders`` (by default ``/dev/shm``, then the temp folder) with room to spare: a container's
    ``/dev/shm`` is often 64 MiB, and writing past a full tmpfs through a mapping is a SIGBUS; the last one (page
    cache backed by disk) otherwise."""
    folders = folders or (SHM, tempfile.gettempdir())
    for folder in folders[:-1]:
        try:
            stat = os.statvfs(folder)
            if os.access(folder, os.W_OK) and stat.f_bavail * stat.f_frsize > 2 * nbytes:
                return folder
        except OSError:
            pass
    return folders[-1]


FOLDER_PREFIX = "solbench-shared-"  # + the judge's pid + "-": a judge that died (killed) leaves its folders behind


def own_folders() -> tuple[str, ...]:
    """Two new folders for one kernel's shared tensors, readable by their owner only: one in ``/dev/shm`` (where it
    is writable) and one in the temp folder (where ``/dev/shm`` has no room). Folders a dead judge left are swept
    first, so a killed judge's tensors do not fill ``/dev/shm`` for good."""
    roots = [SHM] if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else []
    roots.append(tempfile.gettempdir())
    prefix = f"{FOLDER_PREFIX}{os.getpid()}-"
    for root in roots:
        sweep(root)
    return tuple(tempfile.mkdtemp(prefix=prefix, dir=root) for root in roots)


def sweep(root: str) -> list[str]:
    """Remove the folders under ``root`` that judges no longer alive made; returns them."""
    import shutil

    gone = []
    try:
        names = os.listdir(root)
    except OSError:
        return gone
    for name in names:
        pid = name[len(FOLDER_PREFIX):].split("-", 1)[0] if name.startswith(FOLDER_PREFIX) else ""
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            gone.append(name)
    return gone


def _owned_like(fd: int, folder: str) -> None:
    """The file belongs to the user its folder's group names: a kernel's process running as a user of its own
    (``guard.confine``, own-user) was let into its folders by group, and opens what the judge (root) puts there."""
    if os.geteuid() == 0:
        group = os.stat(folder).st_gid
        if group != 0:
            os.fchown(fd, group, group)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's
    return True


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

    def __init__(self, device: str, folders: tuple[str, ...] = ()) -> None:
        self.device, self.folders = device, tuple(folders)  # where files go on CPU (``own_folders``); () = anywhere
        self._paths: list[str] = []
        self._files: list[tuple[int, Any]] = []  # CPU: each file's descriptor and the judge's own bytes for it
        self._keep: list[Any] = []  # the CUDA blocks behind every tensor handed out
        self._counters: list[tuple[bytes, int]] = []  # torch's IPC reference count of each CUDA block: (file, slot)
        self._pool: Any = None  # CUDA: this exchange's own memory pool (``cuda_blocks.shared_segments``)

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
        write(shared, value)
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
            self._pool = self._pool or new_pool()
            with shared_segments(self.device, self._pool):
                block = torch.empty(nbytes, dtype=torch.uint8, device=self.device)
            handle = block.untyped_storage()._share_cuda_()
            self._keep.append(block)
            self._counters.append((handle[4], handle[5]))
            if os.environ.get(MEMORY_LOG):  # the diagnostic of judge.memory: each block's counter
                SHARED[block.data_ptr()] = (handle[4], handle[5])
            return block.view(dtype).reshape(shape), {"kind": "cuda", "ipc": _plain_handle(handle), **base}
        fd, where = self._memfd(nbytes) if MEMFDS else self._file(nbytes)
        own = torch.empty(nbytes, dtype=torch.uint8)
        self._files.append((fd, own))
        return own.view(dtype).reshape(shape), {**where, "nbytes": nbytes, **base}

    @staticmethod
    def _memfd(nbytes: int) -> tuple[int, dict[str, Any]]:
        """A sealed memfd (``sealed_memfd``), named by its number here: the request passes it (``passed_fds``)."""
        fd = sealed_memfd(nbytes)
        return fd, {"kind": "memfd", "fd": fd}

    def _file(self, nbytes: int) -> tuple[int, dict[str, Any]]:
        """The fallback without sealed memfds: a file in the pool's own folders, named by its path."""
        folder = _folder_for(nbytes, self.folders)
        fd, path = tempfile.mkstemp(prefix="solbench-", dir=folder)
        try:
            _owned_like(fd, folder)
            os.ftruncate(fd, nbytes)
        except BaseException:
            os.close(fd)
            raise
        self._paths.append(path)
        return fd, {"kind": "cpu", "path": path}

    def push(self) -> str | None:
        """The judge's tensors into their memfds or files, before a request: what the judge wrote since (values,
        poison) is what the kernel's process will read. A file cut or grown since the last reply (by a process the
        kernel left running; a sealed memfd cannot be) is put back to its size first, and said (``pull``)."""
        why = None
        for fd, own in self._files:
            why = why or _resized(fd, own.numel())
            os.pwrite(fd, own.numpy().data, 0)
        return why

    def pull(self) -> str | None:
        """The memfds or files into the judge's tensors, after a reply: the bytes the kernel's process wrote. Why
        not, where the process cut or grew a file (put back to its size, its bytes read as far as they go; a sealed
        memfd keeps its size); None otherwise."""
        why = None
        for fd, own in self._files:
            why = why or _resized(fd, own.numel())
            view, done = own.numpy().data, 0
            while done < own.numel():
                read = os.preadv(fd, [view[done:]], done)
                if read <= 0:
                    break
                done += read
        return why

    def close(self) -> None:
        for path in self._paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        self._paths.clear()
        for fd, _own in self._files:
            os.close(fd)
        self._files.clear()
        self._keep.clear()
        if self.device.startswith("cuda"):
            import torch

            found = release_ipc_counts(self._counters)
            self._counters.clear()
            held_bytes = torch.cuda.memory_allocated(self.device)
            torch.cuda.ipc_collect()  # the blocks return to the pool
            self._pool = None
            let_go(self.device)
            exchanged(found, held_bytes, torch.cuda.memory_allocated(self.device))  # MEMORY_LOG only


def _resized(fd: int, nbytes: int) -> str | None:
    """Why the file is not ``nbytes`` long, once it is again; None where it was."""
    size = os.fstat(fd).st_size
    if size == nbytes:
        return None
    os.ftruncate(fd, nbytes)
    return (f"the kernel's process changed the size of a tensor the judge shared with it, from {nbytes:,} to "
            f"{size:,} bytes: that memory is the judge's")


def write(shared: Any, value: Any) -> None:
    """``value``'s bytes into the shared tensor ``shared`` (same shape and dtype), as the kernel's process will read
    them at the next request."""
    if value.numel():
        _bytes(shared).copy_(_bytes(value.detach().contiguous()))


def _bytes(tensor: Any) -> Any:
    import torch

    return tensor.reshape(-1).view(torch.uint8)


def _plain_handle(handle: tuple) -> list[Any]:
    return [x.hex() if isinstance(x, (bytes, bytearray)) else x for x in handle]


def _mapped_memfd(number: int, nbytes: int) -> mmap.mmap:
    """The judge's memfd ``number`` (its number in the judge), passed with the request being served, mapped here;
    the descriptor itself is closed when that request is done (``worker.pool``)."""
    from pytest_solbench.worker.pool import passed_fd

    return mmap.mmap(passed_fd(number), nbytes)


def _mapped_file(path: str, nbytes: int) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)


def attach(desc: dict[str, Any], device: str) -> Any:
    """The kernel's side: the tensor (or value) a description names, over the judge's memory."""
    import torch

    kind = desc["kind"]
    if kind == "value":
        return desc["value"]
    dtype, shape = torch_dtype(desc["dtype"]), tuple(desc["shape"])
    if kind == "empty":
        return torch.empty(shape, dtype=dtype, device=device)
    if kind in ("memfd", "cpu"):
        nbytes = desc["nbytes"]
        mapping = _mapped_memfd(desc["fd"], nbytes) if kind == "memfd" else _mapped_file(desc["path"], nbytes)
        return torch.frombuffer(mapping, dtype=torch.uint8, count=nbytes).view(dtype).reshape(shape)
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


TOUCH_STRIDE_BYTES = 1 << 16


def touch(tensors: list) -> None:
    """A read of one byte in every 64 KiB of each mapped tensor, then a sync: whatever the driver does on the first
    access to memory opened from another process is done here, not in the first timed call on it."""
    import torch

    for t in tensors:
        if isinstance(t, torch.Tensor) and t.is_cuda and t.numel():
            t.reshape(-1).view(torch.uint8)[::TOUCH_STRIDE_BYTES].sum()
    torch.cuda.synchronize()
