"""The kernel's process after its code returns: no Python mode of the kernel's left on torch's stacks
(``guard.modes``), a named tuple read as the tuple it is (``tripwires._named_tuple``), and torch's loaders of code
compiled elsewhere refused (``worker.rewrites``): red-team round 44."""

from __future__ import annotations

import collections
import typing

import pytest

torch = pytest.importorskip("torch")


def test_a_mode_left_on_is_named_and_taken_off_and_torchs_device_context_is_kept() -> None:
    from pytest_solbench.guard import modes

    modes.hold()
    assert modes.left() is None
    seen = []

    class Spy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    Spy().__enter__()
    why = modes.left()
    assert why is not None and "1 torch function mode(s)" in why
    assert modes.depth() == (0, 0)
    torch.ones(2).add(1)
    assert seen == []  # taken off: its code runs in nothing after
    with Spy():  # entered and left inside one call: nothing is left
        torch.ones(2)
    assert modes.left() is None and seen
    previous = torch.get_default_device()
    torch.set_default_device("cpu")  # torch's DeviceContext: no code of the kernel's
    try:
        assert modes.depth()[0] >= 1 and modes.left() is None
    finally:
        torch.set_default_device(previous)


def test_a_device_context_with_a_handler_on_the_instance_is_the_kernels_mode() -> None:
    """Red-team round 51, cr06: torch reads a mode's ``__torch_function__`` from the instance first, so a
    DeviceContext carrying one of the kernel's runs its code in the harness's torch calls; only one as torch made it
    (``torch.set_default_device``) is kept."""
    from torch.utils._device import DeviceContext

    from pytest_solbench.guard import modes

    modes.hold()
    honest = DeviceContext("cpu")
    honest.__enter__()
    assert modes.left() is None and modes.depth() == (1, 0)
    honest.__exit__(None, None, None)
    forged = DeviceContext("cpu")
    forged.__enter__()
    forged.__torch_function__ = lambda *args, **kwargs: None
    why = modes.left()
    assert why is not None and "1 torch function mode(s)" in why and modes.depth() == (0, 0)


def test_a_dispatch_mode_left_on_is_named_too() -> None:
    from torch.utils._python_dispatch import TorchDispatchMode

    from pytest_solbench.guard import modes

    class Quiet(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    modes.hold()
    Quiet().__enter__()
    why = modes.left()
    assert why is not None and "1 dispatch mode(s)" in why and modes.depth() == (0, 0)


class RopeOut(typing.NamedTuple):
    q_out: object
    k_out: object

    def total(self):  # a method of its own is never called by reading it as a tuple
        return self.q_out


class Iterating(typing.NamedTuple):
    a: object

    def __iter__(self):  # runs the kernel's code in the harness's delivery
        return iter(())


def test_a_named_tuple_is_a_plain_result_but_not_one_with_hooks_of_its_own() -> None:
    from pytest_solbench.guard import tripwires

    plain = collections.namedtuple("Plain", "a b")
    assert tripwires.strict_result(RopeOut(torch.ones(1), torch.ones(1))) is None
    assert tripwires.strict_result(plain(torch.ones(1), torch.ones(1))) is None
    assert tripwires.strict_result(Iterating(torch.ones(1))).rule == "result-type"
    sub = type("Sub", (plain,), {"__slots__": (), "norm": lambda self: 0, "__str__": lambda self: "s"})
    assert tripwires.strict_result(sub(1, 2)) is None  # the Python docs' idiom: a subclass with methods (ca c01)
    hooked = type("Hooked", (plain,), {"__slots__": (), "__len__": lambda self: 0})
    assert tripwires.strict_result(hooked(1, 2)).rule == "result-type"
    mixed = type("Mixed", (plain, object), {"__slots__": ()})  # two bases
    assert tripwires.strict_result(mixed(1, 2)).rule == "result-type"
    assert tripwires.strict_result(collections.OrderedDict(a=torch.ones(1))) is None  # C's own, like dict's
    assert tripwires.strict_result(type("D", (collections.OrderedDict,), {})()).rule == "result-type"
    assert tripwires.strict_result(type("T", (tuple,), {"_fields": ("a",), "__slots__": ()})((1,))) is None
    assert tripwires.strict_result(type("T", (tuple,), {"_fields": ("a",), "__slots__": (),
                                                        "__len__": lambda s: 0})((1,))).rule == "result-type"


def test_torchs_loaders_of_compiled_code_refuse_in_a_kernels_process() -> None:
    import subprocess
    import sys

    code = ("import io, torch\n"
            "from pytest_solbench.worker import rewrites\n"
            "rewrites.keep_attention_written_out()\n"
            "assert rewrites.undone() is None\n"
            "loader = getattr(torch.compiler, 'load_' + 'compiled_function')\n"
            "try:\n"
            "    loader(io.BytesIO(b'x'))\n"
            "except RuntimeError as exc:\n"
            "    assert 'compiled elsewhere' in str(exc)\n"
            "else:\n"
            "    raise SystemExit('loaded')\n"
            "print(rewrites.undone())\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "load_compiled_function" in done.stdout


def test_frames_told_outside_a_record_never_ask_linecache(tmp_path) -> None:
    """Red-team round 47 (cf02): ``len()`` of an object the kernel put in ``linecache.cache`` under its own file ran
    its code while the loop formatted a raise's frames after the record; the frames are read from the interpreter's
    objects alone now, with no source line."""
    import linecache

    from pytest_solbench.worker import execute, pool

    asked = []

    class Entry(tuple):
        def __len__(self):
            asked.append(True)
            return 4

    source = tmp_path / "kernel.py"
    source.write_text("def run():\n    raise ValueError('no')\n")
    namespace: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    linecache.cache[str(source)] = Entry((1, None, ["x\n"], str(source)))
    try:
        namespace["run"]()
    except ValueError as exc:
        told = pool.frames(exc) + execute._short_traceback(exc, recorded=False)
    finally:
        linecache.cache.pop(str(source), None)
    assert asked == [] and f'File "{source}", line 2, in run' in told and f"{source}:2 in run" in told


def test_a_signal_handler_or_interval_timer_left_by_the_kernel_is_undone_and_named() -> None:
    """Red-team round 48 (ci01): a 10-microsecond interval timer and a SIGALRM handler ran the kernel's code at the
    first bytecode after the record closed."""
    import signal

    from pytest_solbench.guard import signals

    signals.hold()
    assert signals.tripped() is None
    before = signal.getsignal(signal.SIGALRM)
    signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 30.0, 30.0)
    trip = signals.tripped()
    assert trip.rule == "patching" and "1 interval timer(s) armed" in trip.message and "14" in trip.message
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is before
    assert signals.tripped() is None


def test_the_python_dispatcher_switched_on_and_an_aten_kernel_registered_are_found_and_the_keys_put_back() -> None:
    """Red-team round 52, cu01 to cu07: the Python dispatcher on for the thread (``py_impl`` kernels then run in the
    harness's own ``view``) and a kernel of the kernel's registered on an aten op for a dispatch key."""
    from pytest_solbench.guard import dispatch_state

    dispatch_state.hold()
    assert dispatch_state.thread_keys() is None and dispatch_state.registrations() is None
    switched = torch._C._EnablePythonDispatcher()
    trip = dispatch_state.thread_keys()
    assert trip is not None and trip.rule == "patching" and "PythonDispatcher" in trip.message
    assert dispatch_state.thread_keys() is None  # put back
    del switched
    library = torch.library.Library("aten", "IMPL")
    library.impl("view.dtype", lambda *args: None, "AutogradCPU")
    found = dispatch_state.registrations()
    assert found is not None and "aten::view.dtype (AutogradCPU)" in found.message
    del library  # the registration goes with its library
    assert dispatch_state.registrations() is None
