"""The process side of a Ray seat: the judge's actor on a node (``worker.ray_runner``).

It does what the judge's worker loop does on one machine (``worker.pool._serve``): import a trusted target (the
judge's ``judge_item``), call it, send back the result or the error with the last lines the process printed. The
judge spawns each kernel's process from here, on this node, as children of this actor; no kernel code is imported
into it. With ``SOLBENCH_CONFINE=1`` the kernels' private folders go under a folder of this actor's own, removed
by ``close``. It is made remote at run time (``ray.remote(SeatActor)``), so importing this module needs no Ray.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import traceback
from typing import Any

from pytest_solbench.worker.pool import _tail, flush_streams, resolve_target


class SeatActor:
    """A Ray worker process that serves the judge's calls, with its output in a log of its own."""

    def __init__(self, env: dict[str, str], sys_path: list[str], initializer: str | None, device_kind: str) -> None:
        import faulthandler

        os.environ.update(env)  # before anything imports triton: it reads TRITON_INTERPRET when a kernel is decorated
        self.confined = None
        if os.environ.get("SOLBENCH_CONFINE") == "1":  # guard.confine: kernels' temp folders on this node
            self.confined = os.environ["SOLBENCH_CONFINE_ROOT"] = tempfile.mkdtemp(prefix="solbench-confine-")
            os.chmod(self.confined, 0o711)  # kernels' processes, each a user of its own (own-user), pass through it
        fd, path = tempfile.mkstemp(prefix="solbench-ray-", suffix=".log")
        os.unlink(path)  # nothing is left behind when Ray kills the actor; the open descriptors keep it readable
        os.dup2(fd, 1)  # prints and a crash's stack go to the log, whose tail an error carries back
        os.dup2(fd, 2)
        self.log_path = f"/proc/self/fd/{fd}"  # Linux, as Ray's nodes are
        faulthandler.enable()
        self.streams = (sys.stdout, sys.stderr)  # flushed after each call: never a stream code run here set
        sys.path[:] = list(dict.fromkeys([*sys_path, *filter(None, sys.path)]))  # as pool's workers: no '' (m06)
        self.init_error = ""
        if initializer is not None:
            try:
                resolve_target(initializer)()
            except BaseException as exc:  # reported by ready(): a seat does not trust this actor with a call
                self.init_error = f"{type(exc).__name__}: {exc}"
        from pytest_solbench.measure.device import detect_device

        self.device = dataclasses.asdict(detect_device(device_kind))

    def ready(self) -> dict[str, Any]:
        import ray

        node = ray.get_runtime_context().get_node_id()
        return {"device": self.device, "node": node, "pid": os.getpid(), "init_error": self.init_error}

    def call(self, target: str, payload: Any) -> tuple:
        """As a pool worker's loop: ("ok", result) or ("error", message, traceback, stderr tail, outcome), the
        outcome being plain data the target attached to its exception (or None)."""
        offset = os.path.getsize(self.log_path)
        try:
            return ("ok", resolve_target(target)(*(() if payload is None else (payload,))))
        except BaseException as exc:  # SystemExit from a target is its error too
            reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            outcome = getattr(exc, "outcome", None)
        finally:
            flush_streams(self.streams)
        return (*reply, _tail(self.log_path, offset), outcome)

    def close(self) -> None:
        """Before Ray kills this actor: the kernels' pools closed (their processes and every process of theirs
        killed, ``guard.reap``, which a kill from outside would skip), then the confinement folder removed."""
        from pytest_solbench.worker.pool import close_all

        close_all()
        if self.confined:
            shutil.rmtree(self.confined, ignore_errors=True)
