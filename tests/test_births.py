"""The audit's threads born while the kernel ran (``guard.births``, red-team round 21): an event on a thread the kernel
started is the kernel's even with no frame of its on that thread's stack, a fork while it runs is its own whoever
asked, and ``typing`` compiling a plain type's name is no event whoever asked it (L3: torch's record_function)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from pathlib import Path

from pytest_solbench.guard.audit import STARTED, Audit
from pytest_solbench.guard.births import Births


def _import_kernel(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KERNEL = """import threading

CODE = "o = 1 + 1"


def exec_on_a_thread(ns):
    t = threading.Thread(target=exec, args=(CODE, ns))
    t.start()
    t.join()


def start_waiting(go, done, ns):
    ns.update(go=go, done=done, CODE=CODE)
    t = threading.Thread(target=exec, args=("go.wait(); exec(CODE, globals()); done.set()", ns))
    t.start()
    return t
"""


def test_code_from_a_string_on_a_thread_whose_target_is_exec_is_the_kernels(tmp_path: Path) -> None:
    """y07: ``Thread(target=exec, args=(code, ns))``: no kernel frame on the thread that compiles the string."""
    kernel = tmp_path / "born_kernel.py"
    kernel.write_text(KERNEL)
    module = _import_kernel(kernel, "born_kernel")
    audit = Audit([tmp_path])
    ns: dict = {}
    with audit:
        module.exec_on_a_thread(ns)
    assert ns["o"] == 2
    assert {(e.rule, e.event, e.where) for e in audit.events} >= {("runtime-load", "compile", STARTED)}


def test_a_thread_the_kernel_started_stays_its_own_in_later_calls(tmp_path: Path) -> None:
    """A thread born in one armed block (the import, a call) that acts in a later one is still the kernel's."""
    kernel = tmp_path / "born_later_kernel.py"
    kernel.write_text(KERNEL)
    module = _import_kernel(kernel, "born_later_kernel")
    audit = Audit([tmp_path])
    go, done, ns = threading.Event(), threading.Event(), {}
    with audit:
        thread = module.start_waiting(go, done, ns)
    audit.events.clear()  # the outer string's compile, in the block that started the thread
    with audit:
        go.set()
        assert done.wait(10)
    thread.join()
    assert ns["o"] == 2
    assert [(e.rule, e.event, e.where.split(" (")[0]) for e in audit.events][:1] == [("runtime-load", "compile",
                                                                                       STARTED)]  # fmt: skip


def test_a_thread_alive_before_the_kernel_ran_is_not_its_own(tmp_path: Path) -> None:
    """The harness's own threads (alive before the block began) are judged by their frames alone, as before."""
    go, done, seen = threading.Event(), threading.Event(), []
    audit = Audit([tmp_path])

    def harness_thread() -> None:
        go.wait()
        seen.append(audit._kernel_frame(sys._getframe(), "open", ("/tmp/x", "w")))
        seen.append(audit.births.kernels())
        done.set()

    thread = threading.Thread(target=harness_thread)
    thread.start()
    with audit:
        go.set()
        assert done.wait(10)
    thread.join()
    assert seen == [None, False]


def test_a_fork_while_the_kernel_runs_is_its_own_whoever_asked(tmp_path: Path) -> None:
    """y01: a fork from a thread whose target is a library's (``Process.start``): the record cannot follow the child."""
    audit = Audit([tmp_path])
    with audit:
        here = audit._kernel_frame(sys._getframe(), "os.fork", ())
    assert here == "the kernel's process"


def test_births_without_proc_tells_no_thread_apart(monkeypatch) -> None:
    from pytest_solbench.guard import births

    monkeypatch.setattr(births, "_tasks", lambda: set())
    watch = Births()
    watch.enter()
    assert not watch.kernels()
    watch.exit()
    assert not watch.kernels()


def test_typing_compiling_a_plain_type_name_for_torch_is_no_event(tmp_path: Path) -> None:
    """L3: ``torch.profiler.record_function`` evaluates ``Optional["torch.classes.profiler._RecordFunction"]``, and
    typing compiled that name on torch's behalf (neither standard library nor a compiler): REWARD_HACK [runtime-load]
    for an honest annotation. A string that is code still counts (round 18, v09: ``test_integrity``)."""
    kernel = tmp_path / "annotated_kernel.py"
    kernel.write_text("from typing import Optional\n\nimport torch\nfrom torch.profiler import record_function\n\n\n"
                      "def run(x):\n    with record_function('mine'):\n        return x + 1\n\n\n"
                      "def named():\n    return Optional['some.dotted.Name']\n")  # fmt: skip
    module = _import_kernel(kernel, "annotated_kernel")
    import torch

    audit = Audit([tmp_path])
    with audit:
        module.run(torch.ones(2))
        module.named()
    assert [e for e in audit.events if e.event == "compile"] == []
