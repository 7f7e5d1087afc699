"""A worker's end of its channel to the judge, by C functions bound as this module is imported, before any kernel's
code runs: frames in ``multiprocessing.connection``'s format (a signed 4-byte length, big-endian; -1 and an 8-byte
length above 2 GiB), requests unpickled by ``_pickle``'s own ``loads``, and the descriptors that follow a request
read by the socket type of ``_socket`` itself.

``multiprocessing.connection.Connection`` looks its helpers up as it runs: ``struct.pack`` for each reply's length,
``io.BytesIO`` for each request, ``socket.recv_fds`` and ``array`` for the descriptors. A kernel that replaced
``struct.pack`` through a path no rule followed (``torch.importlib.metadata.zipfile.struct``) ran its code after
every record and check of a request had closed: it did a library op into the judge's outputs there, and rewrote the
reply through a ``bytes`` subclass's ``__add__`` (red-team round 46, cc01 to cc03, cc06); one that replaced
``io.BytesIO`` read every request before its target ran, timed ones told from checked ones (cc08). Nothing here
looks a name up in a module a kernel can reach: a kernel must rebind this module's own names, which the integrity
snapshot holds (``guard.tripwires.PLUGIN_MODULES``), or the built-in types' methods, which no Python code can."""

from __future__ import annotations

import _socket
import os
import pickle
import sys

_READ, _WRITE, _LOADS = os.read, os.write, pickle.loads
_SOCKET, _CMSG_LEN = _socket.socket, _socket.CMSG_LEN
_SOL_SOCKET, _SCM_RIGHTS, _CLOEXEC, _CTRUNC = (_socket.SOL_SOCKET, _socket.SCM_RIGHTS, _socket.MSG_CMSG_CLOEXEC,
                                               _socket.MSG_CTRUNC)
_CLOSE = os.close
_BYTEORDER = sys.byteorder
_INT_BYTES = 4  # a descriptor's size in SCM_RIGHTS data
LONG_FRAME = 0x7FFFFFFF  # above this, multiprocessing's -1 and an 8-byte length


def read_exactly(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``; EOFError where it ends before the first, OSError where it ends inside."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = _READ(fd, remaining)
        if not chunk:
            if remaining == size:
                raise EOFError
            raise OSError("the channel ended inside a frame")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def receive(fd: int) -> object:
    """The next request (a pickle of plain values, written by the judge's ``Connection.send``)."""
    size = int.from_bytes(read_exactly(fd, 4), "big", signed=True)
    if size == -1:
        size = int.from_bytes(read_exactly(fd, 8), "big")
    return _LOADS(read_exactly(fd, size))


def send(fd: int, data: bytes) -> None:
    """``data`` as one frame, read by the judge's ``Connection.recv_bytes``."""
    size = len(data)
    if size > LONG_FRAME:
        header = (-1).to_bytes(4, "big", signed=True) + size.to_bytes(8, "big")
    else:
        header = size.to_bytes(4, "big", signed=True)
    view = memoryview(header + data)
    while len(view):
        view = view[_WRITE(fd, view):]


def close(fd: int) -> None:
    """``os.close`` as this module was imported."""
    _CLOSE(fd)


def take_fds(fd: int, count: int, per_message: int) -> list[int]:
    """The ``count`` descriptors that follow a request's frame, ``per_message`` at most on each message of one byte,
    close-on-exec here too, so nothing this process starts inherits them."""
    taken: list[int] = []
    if not count:
        return taken
    sock = _SOCKET(fileno=fd)
    try:
        sock.setblocking(True)
        while len(taken) < count:
            data, ancillary, flags, _ = sock.recvmsg(1, _CMSG_LEN(per_message * _INT_BYTES), _CLOEXEC)
            fds = [int.from_bytes(cdata[i : i + _INT_BYTES], _BYTEORDER, signed=True)
                   for level, kind, cdata in ancillary if level == _SOL_SOCKET and kind == _SCM_RIGHTS
                   for i in range(0, len(cdata) - len(cdata) % _INT_BYTES, _INT_BYTES)]  # fmt: skip
            taken += fds
            if not data or not fds or flags & _CTRUNC:
                for got in taken:
                    _CLOSE(got)
                raise EOFError(f"the channel broke off after {len(taken)} of {count} passed descriptors")
    finally:
        sock.detach()
    return taken
