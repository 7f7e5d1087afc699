"""Runtime integrity: every watched object, patched, is named; an untouched process names nothing."""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import os
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Iterator

import pytest
import torch

from pytest_solbench.guard import integrity
from pytest_solbench.guard.audit import Audit
from pytest_solbench.guard.integrity import Snapshot, child_processes, strict_tensor, thread_counts

PLUGIN = "solbench_fake_plugin"  # a stand-in for pytest_solbench.worker.check & co., independent of their contents


@pytest.fixture(scope="module")
def plugin_module():
    module = types.ModuleType(PLUGIN)
    exec(
        "TOLERANCE = 1e-4\n_cache = None\n"
        "def compare(a, b):\n    return a == b\n"
        "class Checker:\n    def check(self, x):\n        return x\n\n"
        "    @property\n    def strict(self):\n        return True\n",
        module.__dict__,
    )
    sys.modules[PLUGIN] = module
    yield module
    del sys.modules[PLUGIN]


@pytest.fixture(scope="module")
def snapshot(plugin_module) -> Snapshot:
    return Snapshot.take(extra_modules=[PLUGIN])


def _fake(*args, **kwargs):
    return 0.0


WATCHED = [
    (lambda: torch.cuda.Event, "elapsed_time", "torch.cuda.Event.elapsed_time"),
    (lambda: torch.cuda.Event, "record", "torch.cuda.Event.record"),
    (lambda: torch.cuda.Event, "synchronize", "torch.cuda.Event.synchronize"),
    (lambda: torch.cuda.Event, "query", "torch.cuda.Event.query"),
    (lambda: torch.cuda, "Event", "torch.cuda.Event"),
    (lambda: torch.cuda, "synchronize", "torch.cuda.synchronize"),
    (lambda: torch.cuda, "Stream", "torch.cuda.Stream"),
    (lambda: torch.cuda, "current_stream", "torch.cuda.current_stream"),
    (lambda: torch.profiler, "profile", "torch.profiler.profile"),
    (lambda: torch.autograd, "profiler", "torch.autograd.profiler"),
    (lambda: sys.modules["torch.autograd.profiler"], "profile", "torch.autograd.profiler.profile"),
    (lambda: sys.modules["time"], "perf_counter", "time.perf_counter"),
    (lambda: sys.modules["time"], "time", "time.time"),
    (lambda: sys.modules["time"], "monotonic", "time.monotonic"),
    (lambda: torch.Tensor, "float", "torch.Tensor.float"),
    (lambda: torch.Tensor, "abs", "torch.Tensor.abs"),
    (lambda: torch.Tensor, "isnan", "torch.Tensor.isnan"),
    (lambda: torch.Tensor, "isfinite", "torch.Tensor.isfinite"),
    (lambda: torch.Tensor, "sum", "torch.Tensor.sum"),
    (lambda: torch.Tensor, "allclose", "torch.Tensor.allclose"),
    (lambda: torch.Tensor, "__sub__", "torch.Tensor.__sub__"),
    (lambda: torch, "allclose", "torch.allclose"),
    (lambda: threading, "enumerate", "threading.enumerate"),
    (lambda: sys.modules["builtins"], "isinstance", "builtins.isinstance"),
    (lambda: sys.modules[PLUGIN], "compare", f"{PLUGIN}.compare"),
    (lambda: sys.modules[PLUGIN], "TOLERANCE", f"{PLUGIN}.TOLERANCE"),
    (lambda: sys.modules[PLUGIN].Checker, "check", f"{PLUGIN}.Checker.check"),
    (lambda: sys.modules[PLUGIN].Checker, "strict", f"{PLUGIN}.Checker.strict"),
]


@pytest.mark.parametrize("owner, attr, name", WATCHED, ids=[w[2] for w in WATCHED])
def test_each_patched_object_is_named_and_restoring_it_clears_the_change(snapshot, monkeypatch, owner, attr, name):
    replacement = 1.0 if attr == "TOLERANCE" else (property(_fake) if attr == "strict" else _fake)
    monkeypatch.setattr(owner(), attr, replacement)
    assert name in snapshot.changed()
    monkeypatch.undo()
    assert snapshot.changed() == []


def test_swapped_code_and_replaced_modules_are_named(snapshot, plugin_module, monkeypatch):
    monkeypatch.setattr(plugin_module.compare, "__code__", _fake.__code__)
    assert snapshot.changed() == [f"{PLUGIN}.compare"]
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, PLUGIN, types.ModuleType(PLUGIN))
    assert f"sys.modules[{PLUGIN!r}]" in snapshot.changed()
    monkeypatch.undo()
    assert snapshot.changed() == []


def test_an_untouched_process_doing_real_torch_work_changes_nothing(snapshot, plugin_module):
    x = torch.randn(64, 64)
    y = (x @ x).float().abs().sum() - x.sum()
    assert torch.allclose(x, x.clone()) and bool(y.isfinite())
    with torch.profiler.profile():
        torch.softmax(x, -1)
    plugin_module._cache = {"private state": "may change"}
    assert snapshot.changed() == []


def test_thread_counts_see_a_new_python_thread():
    before = thread_counts()
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        during = thread_counts()
        assert during.python_threads == before.python_threads + 1
        if before.native_threads is not None:
            assert during.native_threads >= before.native_threads + 1
    finally:
        release.set()
        worker.join()


@pytest.mark.skipif(not integrity.os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_child_processes_see_a_spawned_child():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert child.pid in child_processes()
    finally:
        child.communicate(b"")
    assert child.pid not in child_processes()


def test_without_proc_counts_fall_back(monkeypatch):
    def no_proc(path):
        raise FileNotFoundError(path)

    monkeypatch.setattr(integrity.os, "listdir", no_proc)
    assert thread_counts().native_threads is None
    assert child_processes() == ()


class _Lazy(torch.Tensor):
    pass


@pytest.mark.parametrize("make, why", [
    (lambda: torch.zeros(3).as_subclass(_Lazy), "subclass of torch.Tensor"),
    (lambda: torch.nn.Parameter(torch.zeros(3)), "subclass of torch.Tensor"),
    (lambda: torch.zeros(3, device="meta"), "meta tensor"),
    (lambda: torch.zeros(3).to_sparse(), "not a dense strided tensor"),
    (lambda: torch.zeros(3, dtype=torch.complex64).conj(), "lazy conjugate"),
    (lambda: [torch.zeros(3)], "not a torch.Tensor"),
], ids=["subclass", "parameter", "meta", "sparse", "conj", "list"])  # fmt: skip
def test_strict_tensor_says_why_an_output_is_not_plain(make, why):
    assert why in strict_tensor(make())


def test_strict_tensor_accepts_plain_tensors_and_views():
    x = torch.randn(4, 6)
    assert strict_tensor(x) is None
    assert strict_tensor(x.t()) is None
    assert strict_tensor(x[:, :3]) is None


# ---------------------------------------------------------------- audit hooks


def test_audit_records_the_kernels_own_writes_processes_and_gc_searches_but_not_imports_or_reads_of_its_files(
    tmp_path,
):
    (tmp_path / "tuning.json").write_text("{}")
    kernel = tmp_path / "audited_kernel.py"
    kernel.write_text(
        "import collections, dataclasses, gc, pathlib, subprocess, sys\n"
        "P = collections.namedtuple('P', 'a b')\n\n"
        "@dataclasses.dataclass\nclass C:\n    x: int = 1\n\n"
        "def honest():\n    return open(pathlib.Path(__file__).parent / 'tuning.json').read()\n\n"
        "def cheat(target):\n    pathlib.Path(target).write_text('answers')\n"
        "    subprocess.run([sys.executable, '-c', 'pass'])\n    gc.get_objects()\n    exec('y = 1')\n"
    )
    audit = Audit([tmp_path])
    with audit:
        spec = importlib.util.spec_from_file_location("audited_kernel", kernel)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.honest()
    assert audit.events == []
    outside = tmp_path.parent / f"{tmp_path.name}-answers.txt"
    with audit:
        module.cheat(str(outside))
    assert [(e.rule, e.event, e.where) for e in audit.events] == [
        ("file-network-os", "open", "audited_kernel.py:12"),
        ("threads", "subprocess.Popen", "audited_kernel.py:13"),
        ("introspection", "gc.get_objects", "audited_kernel.py:14"),
        ("runtime-load", "compile", "audited_kernel.py:15"),
        ("runtime-load", "exec", "audited_kernel.py:15"),
    ]
    module.cheat(str(outside))  # disarmed: nothing more is recorded
    assert len(audit.events) == 5


def test_torchs_own_wrapper_is_not_a_patch_but_a_look_alike_from_elsewhere_is() -> None:
    import functools

    import torch

    from pytest_solbench.guard.integrity import _torch_wrapper_of

    def original(seed):
        return seed

    honest = torch._disable_dynamo(original)  # what importing torch._dynamo does to torch.manual_seed

    @functools.wraps(original)
    def impostor(seed):
        return 0

    assert _torch_wrapper_of(honest, original)
    assert not _torch_wrapper_of(impostor, original)  # a wraps() chain, but the code is not torch's
    assert not _torch_wrapper_of(honest, impostor)  # torch's code, but around something else
    # an object whose class hands out torch's code and the original as ``__wrapped__`` (red-team round 44, bw06)
    fake = types.new_class("Fake", (), {}, lambda ns: ns.update(__code__=honest.__code__,
                                                                __wrapped__=staticmethod(original)))()
    assert getattr(fake, "__wrapped__") is original and not _torch_wrapper_of(fake, original)
    assert not _torch_wrapper_of(honest, original, "pytest_solbench.worker.pool.plain_json")  # never the plugin's


def _import_kernel(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_walks_past_torchs_wrappers_to_the_kernel_that_called_them(tmp_path):
    """torch.no_grad()(f)(...) puts a torch frame between the event and the kernel: only torch's compilers stop the
    walk, so the write is still the kernel's (red-team round 1)."""
    kernel = tmp_path / "wrapped_kernel.py"
    kernel.write_text("import torch\n\ndef cheat(target):\n    torch.no_grad()(open)(target, 'w').close()\n")
    module = _import_kernel(kernel, "wrapped_kernel")
    audit = Audit([tmp_path])
    with audit:
        module.cheat(str(tmp_path.parent / f"{tmp_path.name}-wrapped.txt"))
    assert [(e.rule, e.event, e.where) for e in audit.events] == [("file-network-os", "open", "wrapped_kernel.py:4")]


def test_a_callable_handed_to_a_compiler_is_still_the_kernels_but_a_compilers_own_cache_write_is_not(tmp_path):
    """Red-team round 2 (c18): the walk stopped at the first compiler frame, so torch.fx calling a kernel-made
    partial(numpy.savetxt, ...) wrote a file unseen. Through a compiler, only what compilers do on a kernel's behalf
    is excused: a write inside the temp folder, a read anywhere; not a write elsewhere, nor a socket."""
    import tempfile

    kernel = tmp_path / "fx_kernel.py"
    kernel.write_text(
        "import functools, socket\nimport numpy as np\nimport torch.fx.node\n\n"
        "def write(target):\n"
        "    torch.fx.node.map_aggregate((target,), functools.partial(np.savetxt, X=np.arange(3)))\n\n"
        "def read(target):\n    return torch.fx.node.map_aggregate((target,), open)\n\n"
        "def connect():\n"
        "    torch.fx.node.map_aggregate(('localhost',), functools.partial(socket.getaddrinfo, port=9))\n"
    )
    module = _import_kernel(kernel, "fx_kernel")
    outside = tmp_path.parent / f"{tmp_path.name}-fx.txt"
    with tempfile.TemporaryDirectory() as scratch:
        audit = Audit([tmp_path])
        audit.writable = (os.path.realpath(scratch),)  # the compilers' folders, here (pytest's tmp_path is in /tmp)
        with audit:
            module.write(str(outside))
            module.write(os.path.join(scratch, "cache.txt"))  # where compilers write: excused
            module.read(str(outside))[0].close()  # compilers read anywhere: excused
            try:
                module.connect()
            except OSError:
                pass  # refused or unreachable: the attempt is what counts
    seen = [(e.rule, e.event, e.where) for e in audit.events]
    assert seen[0] == ("file-network-os", "open", "fx_kernel.py:6 (through torch.fx.node)"), seen
    assert all(os.fspath(outside) in e.detail or e.event.startswith("socket") for e in audit.events), audit.events
    assert [e.event for e in audit.events if e.event.startswith("socket")], seen
    assert all(e.where.endswith("(through torch.fx.node)") for e in audit.events), seen


@pytest.mark.filterwarnings("ignore:`torch.jit.fork` is deprecated:DeprecationWarning")
def test_a_signal_to_a_process_not_its_own_is_stopped_and_recorded_but_its_own_children_may_be_signalled(tmp_path):
    """Red-team round 3 (c09): os.kill reached through torch helpers and torch.jit.fork signalled the judge. Now a
    signal to a process that is neither this one nor one it started raises before it is sent, whoever asks."""
    import signal

    kernel = tmp_path / "signalling_kernel.py"
    kernel.write_text("import os, subprocess, sys\nimport torch\n\n"
                      "def parent():\n    torch.jit.fork(os.kill, os.getppid(), 0)\n\n"
                      "def child():\n"
                      "    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
                      "    os.kill(proc.pid, 15)\n    return proc.wait()\n")  # fmt: skip
    module = _import_kernel(kernel, "signalling_kernel")
    audit = Audit([tmp_path])
    with audit:
        with pytest.raises(PermissionError, match="may signal only itself"):
            module.parent()
    assert [(e.rule, e.event) for e in audit.events] == [("threads", "os.kill")]
    assert audit.events[0].where == "signalling_kernel.py:5" and "stopped" in audit.events[0].detail
    quiet = Audit([tmp_path])
    with quiet:
        assert module.child() == -signal.SIGTERM  # its own child: signalled, not stopped
    assert [e.event for e in quiet.events] == ["subprocess.Popen", "os.kill"]  # recorded as any kernel's kill is
    assert not any("stopped" in e.detail for e in quiet.events)


def test_poison_fills_a_buffer_as_allocate_outputs_makes_one_for_every_output_dtype_of_the_library():
    """Timed calls' outputs are re-poisoned in place (red-team round 3, c02): the same bytes as a fresh buffer."""
    from dataclasses import replace

    from pytest_solbench.data.inputs import allocate_outputs, poison_
    from pytest_solbench.data.library import bundled_problems
    from pytest_solbench.data.trace import load_problem

    seen = set()
    for path in sorted(bundled_problems().glob("*/definition.json")):
        definition = load_problem(path).definition
        for spec in definition.outputs:
            if spec.dtype in seen:
                continue
            seen.add(spec.dtype)
            scalar = replace(definition, outputs=(replace(spec, shape=None),))  # one poisoned element of the dtype
            fresh = allocate_outputs(scalar, {}, "cpu")[0].reshape(1)
            again = poison_(torch.zeros(fresh.element_size(), dtype=torch.uint8).view(fresh.dtype))
            assert torch.equal(fresh.view(torch.uint8), again.view(torch.uint8)), spec.dtype
    assert {"bfloat16", "float32", "float8_e4m3fn", "int32"} <= seen


def test_strict_outputs_refuse_broadcast_views_views_of_inputs_and_container_subclasses():
    from pytest_solbench.guard.tripwires import strict_outputs, strict_result

    x = torch.randn(1, 16)
    assert strict_outputs(["y"], [torch.randn(8, 16)], [x]) is None
    assert strict_outputs(["y"], [torch.randn(16, 8).t()], [x]) is None  # a transpose of its own memory: fine
    assert strict_outputs(["y"], [x.expand(8, 16)], [x]).rule == "strict-output"
    assert "in an input's memory" in strict_outputs(["y"], [x[0]], [x]).message
    big = torch.randn(64)

    assert "in an input's memory" in strict_outputs(["y"], [big[8:24]], [big]).message  # an offset view
    overlapping = torch.randn(32).as_strided((4, 8), (7, 1))  # rows overlap: no stride is 0 (red-team round 4)
    assert "overlapping" in strict_outputs(["y"], [overlapping], [x]).message
    assert strict_result([x]) is None and strict_result((x,)) is None and strict_result(x) is None

    class Sneaky(list):
        pass

    assert strict_result(Sneaky([x])).rule == "result-type"


def test_what_torch_compile_does_through_inductor_is_excused(tmp_path):
    """Red-team round 4's false positive: an honest torch.compile kernel on CPU was failed for Inductor's
    subprocess.DEVNULL (a write to /dev/null), a makedirs over a folder that exists, and an os.remove relative to a
    cache folder held open (dir_fd). A remove relative to a folder outside the caches is still the kernel's."""
    import tempfile

    kernel = tmp_path / "compiling_kernel.py"
    kernel.write_text(
        "import functools, os\nimport torch.fx.node\n\n"
        "def inductor_like(cache, outside):\n"
        "    torch.fx.node.map_aggregate((os.devnull,), functools.partial(open, mode='w'))[0].close()\n"
        "    torch.fx.node.map_aggregate(('.',), functools.partial(os.makedirs, exist_ok=True))\n"
        "    open(os.path.join(cache, 'header.i'), 'w').close()\n"
        "    for folder in (cache, outside):\n"
        "        fd = os.open(folder, os.O_RDONLY)\n"
        "        try:\n"
        "            torch.fx.node.map_aggregate(('header.i',), functools.partial(os.remove, dir_fd=fd))\n"
        "        except FileNotFoundError:\n"
        "            pass\n"
        "        finally:\n"
        "            os.close(fd)\n"
    )  # fmt: skip
    module = _import_kernel(kernel, "compiling_kernel")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    with tempfile.TemporaryDirectory() as cache:
        audit = Audit([tmp_path])
        audit.writable = (os.path.realpath(cache), os.devnull)
        with audit:
            module.inductor_like(cache, str(outside))
    through = [(e.event, e.where) for e in audit.events if "through" in e.where]
    assert through == [("os.remove", "compiling_kernel.py:11 (through torch.fx.node)")], audit.events  # outside only
    assert {e.where for e in audit.events if "through" not in e.where} == {"compiling_kernel.py:7",
                                                                           "compiling_kernel.py:9"}  # its own opens


def test_a_child_in_a_session_of_its_own_is_detached():
    """Red-team round 4: a daemon detached with setsid outlived the item; a compiler's workers keep the session."""
    from pytest_solbench.guard.integrity import detached_children

    kept = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    detached = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        found = detached_children()
        assert detached.pid in found and kept.pid not in found
    finally:
        for proc in (kept, detached):
            proc.kill()
            proc.wait()


def test_a_thread_started_at_import_is_not_part_of_the_baseline(tmp_path):
    """settle() counts once the first call is done; a thread the kernel's import started is still the kernel's."""
    from pytest_solbench.guard.tripwires import Tripwires

    kernel = tmp_path / "threaded_kernel.py"
    kernel.write_text("import threading\nSTOP = threading.Event()\nthreading.Thread(target=STOP.wait).start()\n")
    wires = Tripwires([str(tmp_path)])
    with wires.arm():
        module = _import_kernel(kernel, "threaded_kernel")
    try:
        with wires.arm():
            pass  # the first call
        wires.settle()
        trip = wires.check()
        assert trip is not None and trip.rule == "threads"
    finally:
        module.STOP.set()


def test_a_thread_started_at_import_is_found_as_the_import_is_answered(tmp_path):
    """Red-team round 48 (ci): a thread of the kernel's alive when its import is answered would run its code before
    the first call's record; the load's check finds it, before any ``settle``, and one that ended does not count."""
    from pytest_solbench.guard.tripwires import Tripwires

    kernel = tmp_path / "threaded_import.py"
    kernel.write_text("import threading\nSTOP = threading.Event()\n"
                      "threading.Thread(target=STOP.wait, name='kernels-own').start()\n"
                      "DONE = threading.Thread(target=len, args=((),))\nDONE.start()\nDONE.join()\n")
    wires = Tripwires([str(tmp_path)])
    with wires.arm():
        module = _import_kernel(kernel, "threaded_import")
    try:
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "kernels-own" in trip.message, trip
        module.STOP.set()
        for thread in [t for t in threading.enumerate() if t.name == "kernels-own"]:
            thread.join()
        assert wires.check() is None  # the import's thread ended: nothing left to find
    finally:
        module.STOP.set()


def test_a_property_put_on_module_specs_is_patching():
    """Red-team round 49, cl01: every import statement reads ``module.__spec__._initializing``; a property of that
    name on ``ModuleSpec`` would run the kernel's code in the harness's own imports, after a call's record."""
    import importlib.machinery

    snapshot = integrity.Snapshot.take()
    importlib.machinery.ModuleSpec._initializing = property(lambda spec: False)
    try:
        assert any("ModuleSpec" in name for name in snapshot.changed()), snapshot.changed()
    finally:
        del importlib.machinery.ModuleSpec._initializing
    assert snapshot.changed() == []


def test_a_changed_thread_switch_interval_trips_patching(tmp_path):
    """Red-team round 8, j01: a kernel's helper that holds the interpreter (a switch interval of 30 s) keeps the
    harness from answering while it finishes deferred work; the interval must be as the tripwires found it."""
    from pytest_solbench.guard.tripwires import Tripwires

    wires = Tripwires([str(tmp_path)])
    before = sys.getswitchinterval()
    try:
        with wires.arm():
            sys.setswitchinterval(30.0)  # the call
        trip = wires.check()
        assert trip is not None and trip.rule == "patching" and "switch interval" in trip.message
    finally:
        sys.setswitchinterval(before)
    assert wires.check() is None


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_no_child_the_kernel_started_is_part_of_the_baseline(tmp_path):
    """Red-team round 7 (h04) and 7b (i01): a server the kernel started at import (through a compiler's helper that
    runs a command, so no audit event was the kernel's; then dressed as Inductor's compile worker) joined the baseline
    of children after the first call and wrote the outputs after each reply. Inductor compiles in the kernel's
    process (one compile thread), so no child is ever part of the baseline."""
    from pytest_solbench.guard.tripwires import Tripwires

    server = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        wires = Tripwires([str(tmp_path)])
        with wires.arm():
            pass  # the first call
        wires.settle()
        assert wires.children == set()
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and str(server.pid) in trip.message
    finally:
        server.communicate(b"")


def _settled(tmp_path: Path, source: str, name: str) -> tuple[types.ModuleType, object]:
    """A kernel file imported and called once under its tripwires, then settled (as ``worker.execute`` does)."""
    from pytest_solbench.guard.tripwires import Tripwires

    kernel = tmp_path / f"{name}.py"
    kernel.write_text(source)
    wires = Tripwires([str(tmp_path)])
    with wires.arm():
        module = _import_kernel(kernel, name)
    with wires.arm():
        module.run()  # the first call
    wires.settle()
    return module, wires


POOL_WARMED_AT_IMPORT = """import concurrent.futures
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)
POOL.submit(int).result()  # one worker alive at import

def half(i):
    return sum(range(1000 * i))

def run():
    return [f.result() for f in [POOL.submit(half, i) for i in range(2)]]
"""


def test_a_pool_warmed_at_import_is_the_same_pool_as_one_made_later(tmp_path):
    """Red-team round 8, j03: the baseline was a count; a pool with one worker at import (taken out as the
    kernel's) and a second born in the first call (added) read as one thread more after every later call.
    The baseline is the set of threads: an idle pool's workers pass however they were warmed."""
    module, wires = _settled(tmp_path, POOL_WARMED_AT_IMPORT, "pool_warmed_at_import")
    try:
        assert len(module.POOL._threads) == 2
        for _ in range(50):  # the honest kernel waits for its tasks: no call may trip, however the threads ran
            with wires.arm():
                module.run()
            assert wires.check() is None
    finally:
        module.POOL.shutdown()


DEFERRED_TO_A_POOL = """import concurrent.futures
import threading
STARTED, GO = threading.Event(), threading.Event()
POOL = None

def later():
    STARTED.set()
    GO.wait()  # the kernel's code, run after the call returned

def run():
    global POOL
    if POOL is None:
        POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)  # born in the first call: baseline by its entry
    POOL.submit(later)
"""


def test_a_pool_running_the_kernels_code_after_the_call_is_caught(tmp_path):
    """Red-team round 8, j01: a pool's worker joined the baseline by its entry function (concurrent.futures') and
    then ran the kernel's deferred work after each reply. Its stack holds the kernel's frame: ``threads``."""
    module, wires = _settled(tmp_path, DEFERRED_TO_A_POOL, "deferred_to_a_pool")
    try:
        assert module.STARTED.wait(60)
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "kernel's code" in trip.message
        assert "deferred_to_a_pool.py" in trip.message
    finally:
        module.GO.set()
        module.POOL.shutdown()


def test_a_pool_task_or_queue_the_call_did_not_wait_for_is_caught(tmp_path):
    """A task that is no kernel code (a builtin that waits) with the kernel's behind it in the queue: wherever the
    worker is (just started, taking the task, running it), what the call left behind is seen."""
    source = DEFERRED_TO_A_POOL.replace("    POOL.submit(later)", "    POOL.submit(GO.wait)\n    POOL.submit(later)")
    module, wires = _settled(tmp_path, source, "queued_in_a_pool")
    try:
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "did not wait for" in trip.message
    finally:
        module.GO.set()
        module.POOL.shutdown()


DONE_BY_HAND = """import concurrent.futures
import threading
import time
GO = threading.Event()
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)
FUTURES = []

def run():
    if FUTURES:
        future = POOL.submit(GO.wait)  # a task of no kernel code that runs on
        while not future.running():
            time.sleep(0.001)
        future.set_result(None)  # its future marked done by the kernel's own hand
    FUTURES.append(1)
"""


def test_a_running_task_whose_future_the_kernel_marked_done_is_still_busy(tmp_path):
    """Red-team round 10, l02: ``busy`` took a task whose future was done for a finished one; the kernel set a
    running task's future itself (``Future.set_result`` is public) and the task ran on after every call, unseen."""
    module, wires = _settled(tmp_path, DONE_BY_HAND, "done_by_hand")
    try:
        with wires.arm():
            module.run()
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "did not wait for" in trip.message, trip
    finally:
        module.GO.set()
        module.POOL.shutdown()


FAKE_POOL_WORKER = """import concurrent.futures.thread
import queue
import threading
GO = threading.Event()
CALLS = []

def run():
    CALLS.append(1)
    if len(CALLS) == 2:  # after the first call: no baseline thread
        threading.Thread(target=concurrent.futures.thread._worker, args=(None, queue.SimpleQueue(), GO.wait, ()),
                         daemon=True).start()
"""


def test_a_thread_on_a_pools_entry_with_no_pool_is_a_new_thread(tmp_path):
    """Red-team round 10, l04: a thread the kernel started on ``concurrent.futures.thread._worker`` passed for a pool's
    worker by its entry alone and ran the kernel's work from its "initializer"; a pool's worker is in the live pool
    its first argument names."""
    module, wires = _settled(tmp_path, FAKE_POOL_WORKER, "fake_pool_worker")
    try:
        with wires.arm():
            module.run()
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "threads still running" in trip.message, trip
    finally:
        module.GO.set()


def test_a_pools_queue_counts_whether_or_not_the_pool_was_shut_down():
    """The queue is read from the worker's arguments. A pool shut down without waiting still runs what its queue
    holds (red-team round 9, k03), so a shutdown does not make a queued task no task of the call."""
    import queue
    import weakref

    from pytest_solbench.guard import tripwires

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    waiting: queue.SimpleQueue = queue.SimpleQueue()
    args = (weakref.ref(pool), waiting, None, ())
    assert not tripwires._queued(args)
    waiting.put(tripwires.pool_threads._WorkItem(concurrent.futures.Future(), len, ((),), {}))
    assert tripwires._queued(args)
    assert not tripwires._queued(("not", "a pool"))
    pool.shutdown(wait=False)
    assert tripwires._queued(args)


DONE_CALLBACK = """import concurrent.futures
import time
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)

def monitor(future):
    time.sleep(0.2)  # the kernel's code, in the pool's worker, after the caller was woken

def run():
    future = POOL.submit(sum, range(1000))
    future.add_done_callback(monitor)
    return future.result()
"""


def test_an_honest_pools_done_callback_just_after_the_call_is_let_finish(tmp_path):
    """Red-team round 9, k02: a done-callback runs in the pool's worker after the waiting caller was woken, so the
    call returned while the kernel's callback still ran: a false ``threads`` in 7 of 12 items. ``check`` lets other
    threads finish for up to ``BUSY_GRACE_S`` (here the callback takes 0.2 s of it) before ``busy`` counts."""
    module, wires = _settled(tmp_path, DONE_CALLBACK, "done_callback")
    try:
        with wires.arm():
            module.run()
        assert wires.check() is None
    finally:
        module.POOL.shutdown()


QUEUED_BEHIND_A_COMPILERS_SLEEP = """import concurrent.futures
import functools
import torch._dynamo.comptime
STARTED, POOLS = [], []

def later():
    STARTED.append(1)  # the kernel's code, queued behind a delay whose function lies in torch's files

def run():
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    POOLS.append(pool)
    pool.submit(torch._dynamo.comptime.ComptimeContext.sleep, None, 1.5)  # longer than the grace
    pool.submit(later)
    pool.shutdown(wait=False)  # queued tasks still run
"""


def test_a_task_queued_behind_a_compilers_function_in_a_pool_shut_down_is_caught(tmp_path):
    """Red-team round 9, k03: a task of a compiler's function was exempt by its file, whatever its arguments, and
    a shut-down pool's queue was not read, so the kernel's code queued behind ``time.sleep`` reached through torch's
    files ran after every call, unseen, under ``--solbench-guard strict`` too. Only a compiler's function called
    with no argument is a compiler's task, and a queue counts after a shutdown."""
    module, wires = _settled(tmp_path, QUEUED_BEHIND_A_COMPILERS_SLEEP, "queued_behind_a_sleep")
    try:
        with wires.arm():
            module.run()
        trip = wires.check()
        assert trip is not None and trip.rule == "threads", trip
    finally:
        for pool in module.POOLS:
            pool.shutdown(wait=True)  # no task of it left for the next test's tripwires


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_native_only_sees_a_thread_no_python_thread_stands_for():
    """A thread started under threading's back (as C code starts one) is not in threading.enumerate()."""
    import _thread

    before = integrity.native_only()
    release = _thread.allocate_lock()
    release.acquire()
    _thread.start_new_thread(release.acquire, ())
    try:
        assert integrity.native_only() - before
    finally:
        release.release()


POOL_GROWN_LATER = """import concurrent.futures
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1)
WIDTH = [1]

def part(i):
    return sum(range(1000 * i))

def run():
    return [f.result() for f in [POOL.submit(part, i) for i in range(WIDTH[0])]]
"""


def test_a_pool_that_grows_after_the_first_call_is_no_new_thread(tmp_path):
    """A pool starts a worker only when none is idle, so an honest pool may have one worker after the first call
    and its second in any later one (a false ``threads`` in one of two plugin runs of round 8's ``pool_at_import``,
    and in 18 of 30 in-process ones): a pool's worker is judged by its tasks, whenever it was born."""
    module, wires = _settled(tmp_path, POOL_GROWN_LATER, "pool_grown_later")
    try:
        assert len(module.POOL._threads) == 1
        module.POOL._max_workers, module.WIDTH[0] = 2, 2  # the next call's submits grow the pool to two workers
        with wires.arm():
            module.run()
        assert len(module.POOL._threads) == 2
        assert wires.check() is None
    finally:
        module.POOL.shutdown()


def test_a_timer_of_the_kernels_function_is_the_kernels(tmp_path):
    """A ``threading.Timer`` waits in threading's frames and then calls its function: the kernel's, so the timer
    is, though its class's ``run`` is the standard library's."""
    source = ("import threading\nTIMER = []\n\ndef later():\n    pass\n\n"
              "def run():\n    if not TIMER:\n        TIMER.append(threading.Timer(600, later))\n"
              "        TIMER[0].start()\n")
    module, wires = _settled(tmp_path, source, "timer_kernel")
    try:
        trip = wires.check()
        assert trip is not None and trip.rule == "threads" and "still running" in trip.message
    finally:
        module.TIMER[0].cancel()
        module.TIMER[0].join()


@contextlib.contextmanager
def _library(tmp_path: Path, name: str, source: str) -> Iterator[Path]:
    """A kernel folder, and beside it a library ``name`` (neither the standard library nor a compiler) importable
    while the block runs; yields the kernel folder."""
    lib, folder = tmp_path / "lib", tmp_path / "kernel"
    lib.mkdir()
    folder.mkdir()
    (lib / f"{name}.py").write_text(source)
    sys.path.insert(0, str(lib))
    try:
        yield folder
    finally:
        sys.path.remove(str(lib))
        sys.modules.pop(name, None)
        sys.modules.pop("fake", None)


def test_audit_records_a_string_a_library_compiles_for_the_kernel_but_not_the_standard_librarys_own(tmp_path):
    """Red-team round 14, q08: sympy.sympify evaluated a string the kernel wrote ("__import__('torch')...rms_norm"),
    and exec counted only on the kernel's own line. A library that is neither the standard library nor a compiler
    compiling code for the kernel is the kernel's doing; a dataclass's or namedtuple's generated methods are not."""
    with _library(tmp_path, "evaluator", "def evaluate(text):\n    return eval(text)\n") as folder:
        kernel = folder / "string_kernel.py"
        kernel.write_text("import collections, dataclasses\nimport evaluator\n\n"
                          "def honest():\n    P = collections.namedtuple('P', 'a b')\n"
                          "    return dataclasses.make_dataclass('C', [('x', int)])\n\n"
                          "def cheat():\n    return evaluator.evaluate('1 + 1')\n")  # fmt: skip
        module = _import_kernel(kernel, "string_kernel")
        audit = Audit([folder])
        with audit:
            module.honest()
        assert audit.events == []
        with audit:
            assert module.cheat() == 2
    assert {(e.rule, e.event, e.where) for e in audit.events} == {
        ("runtime-load", "compile", "string_kernel.py:9 (through evaluator)"),
        ("runtime-load", "exec", "string_kernel.py:9 (through evaluator)")}


def test_code_compiled_from_a_file_outside_an_import_is_judged_as_a_string_and_reads_by_where_they_lie(tmp_path):
    """Red-team round 15: Inductor's loader ran a file no rule read (r04) and torch.jit's evaluator a string with ""
    as its file name (r07), both skipped as imports; a module put in sys.modules with another file's name made the
    read of that file pass as showing a loaded module's source (r12)."""
    secret = tmp_path / "secret.py"
    secret.write_text("ANSWER = 42\n")
    loader = "def load(path):\n    return exec(compile(open(path).read(), path, 'exec'), {})\n"
    with _library(tmp_path, "loader", loader) as folder:
        (folder / "notes.txt").write_text("x = 1\n")
        kernel = folder / "file_code_kernel.py"
        kernel.write_text("import sys, types, loader\n\n"
                          "def cheat(here):\n    loader.load(here + '/notes.txt')\n\n"
                          "def spoof(path):\n    fake = types.ModuleType('fake')\n    fake.__file__ = path\n"
                          "    sys.modules['fake'] = fake\n    return open(path).read()\n")  # fmt: skip
        module = _import_kernel(kernel, "file_code_kernel")
        audit = Audit([folder])
        with audit:
            module.cheat(str(folder))
            module.spoof(str(secret))
    got = {(e.rule, e.event, e.where) for e in audit.events}
    assert ("runtime-load", "compile", "file_code_kernel.py:4 (through loader)") in got, got
    assert ("file-network-os", "open", "file_code_kernel.py:10") in got, got


def test_a_string_a_library_evaluates_while_the_kernel_is_imported_is_still_the_kernels(tmp_path):
    """Red-team round 16, s04: an eval reached from a kernel's module body was taken for the import machinery's own
    compile, since the machinery was further up the stack (numpy.f2py's myeval ran the vendor op's name)."""
    with _library(tmp_path, "evaluator2", "def evaluate(text):\n    return eval(text)\n") as folder:
        kernel = folder / "import_time_kernel.py"
        kernel.write_text("import evaluator2\nVALUE = evaluator2.evaluate('6 * 7')\n")
        audit = Audit([folder])
        with audit:
            module = _import_kernel(kernel, "import_time_kernel")
    assert module.VALUE == 42
    assert ("runtime-load", "compile", "import_time_kernel.py:2 (through evaluator2)") in {
        (e.rule, e.event, e.where) for e in audit.events}, audit.events


def test_a_code_object_built_or_edited_by_the_kernel_is_runtime_load_red_team_round_18(tmp_path):
    """Red-team round 18, v08: `gen.gi_code.replace(co_names=...)` renamed a harmless name of the source to the
    vendor op's and `type(f)(code, {})` made a function of it; no exec or compile is raised. CPython raises
    code.__new__ and function.__new__; a dataclass, a namedtuple and functools.wraps raise neither."""
    kernel = tmp_path / "code_kernel.py"
    kernel.write_text("import collections, dataclasses, functools\n\n"
                      "def _t(lib):\n    yield lib.xlen\n\n"
                      "def honest():\n    collections.namedtuple('P', 'a b')\n"
                      "    dataclasses.make_dataclass('C', [('x', int)])\n    return functools.wraps(_t)(lambda: 0)\n\n"
                      "def cheat():\n    code = _t(None).gi_code.replace(co_names=('xlen',))\n"
                      "    return type(_t)(code, {})\n")  # fmt: skip
    module = _import_kernel(kernel, "code_kernel")
    audit = Audit([tmp_path])
    with audit:
        module.honest()
    assert audit.events == []
    with audit:
        module.cheat()
    assert {(e.rule, e.event, e.where) for e in audit.events} == {
        ("runtime-load", "code.__new__", "code_kernel.py:12"), ("runtime-load", "function.__new__", "code_kernel.py:13")}


def test_typing_compiling_a_string_that_is_more_than_a_type_is_the_kernels_red_team_round_18(tmp_path):
    """Red-team round 18, v09: a NamedTuple's field type given as a string of code, built at run time, became a
    ForwardRef that singledispatch evaluated with only the standard library between (excused). Plain type strings,
    as data or annotations, still pass."""
    kernel = tmp_path / "typing_kernel.py"
    kernel.write_text("import functools, typing\n\n"
                      "def honest():\n    S = typing.NamedTuple('S', [('a', 'int'), ('b', 'list[int]')])\n"
                      "    d = functools.singledispatch(lambda x: x)\n"
                      "    def f(x: 'int'):\n        return x\n    d.register(f)\n    return typing.get_type_hints(S)\n\n"
                      "def cheat(code):\n    return typing.NamedTuple('C', [('a', code)])\n")  # fmt: skip
    module = _import_kernel(kernel, "typing_kernel")
    audit = Audit([tmp_path])
    with audit:
        module.honest()
    assert audit.events == []
    with audit:
        module.cheat("[0][0] or int")
    assert {(e.rule, e.event, e.where) for e in audit.events} == {
        ("runtime-load", "compile", "typing_kernel.py:12 (through typing)")}


def test_typing_compiling_code_for_a_compiler_that_reads_the_kernels_annotations_is_still_the_kernels(tmp_path):
    """A compiler that reads a kernel function's annotations (torch.library.custom_op infers its schema with
    typing.get_type_hints) excuses typing's compile of a plain type, not of code: raw strings in __annotations__ come
    without any annotation the rules read (dataclasses.make_dataclass's fields, copied by functools.update_wrapper)."""
    with _library(tmp_path, "unused", "") as folder:
        (tmp_path / "lib" / "fakecompiler").mkdir()  # a package: compilers are found by their folders
        (tmp_path / "lib" / "fakecompiler" / "__init__.py").write_text("import typing\ndef infer(f):\n"
                                                                      "    return typing.get_type_hints(f)\n")
        kernel = folder / "annotated_kernel.py"
        kernel.write_text("import dataclasses, functools, fakecompiler\n\n"
                          "def build(text):\n    C = dataclasses.make_dataclass('C', [('a', text)])\n"
                          "    f = functools.update_wrapper(lambda a: a, C)\n    return fakecompiler.infer(f)\n")  # fmt: skip
        module = _import_kernel(kernel, "annotated_kernel")
        audit = Audit([folder], compilers=("fakecompiler",))
        with audit:
            module.build("int")
        assert audit.events == []
        with audit:
            module.build("[0][0] or int")
        sys.modules.pop("fakecompiler", None)
    assert ("runtime-load", "compile", "annotated_kernel.py:6 (through typing)") in {
        (e.rule, e.event, e.where) for e in audit.events}, audit.events


def test_the_tripwires_own_attributes_and_the_harness_entry_are_held(tmp_path) -> None:
    """Late code set ``check = lambda: None`` on the harness's ``Tripwires`` (red-team round 18, u03): an attribute
    set on the instance, swapped for another object, or an instance's class changed is named like a patch."""
    from pytest_solbench.guard.tripwires import Tripwires

    wires = Tripwires([str(tmp_path)])
    entry = types.SimpleNamespace(fn=len, wires=wires)
    wires.snapshot.watch("entry", entry, ("fn", "wires"))

    def mine() -> list[str]:
        return [n for n in wires.snapshot.changed() if n.startswith(("Tripwires", "entry"))]

    assert mine() == []
    wires.check = lambda: None
    assert mine() == ["Tripwires.check"]
    del wires.check
    events = wires.audit.events
    wires.audit.events = []
    assert mine() == ["Tripwires.audit.events"]
    wires.audit.events = events
    entry.wires = None
    assert mine() == ["entry.wires"]
    entry.wires = wires
    wires.settle()  # what changes by design (the baseline of threads) is no change
    assert mine() == []


def test_a_compilers_cache_manager_writes_only_within_its_own_cache(tmp_path, monkeypatch) -> None:
    """Triton's ``FileCacheManager(<absolute dir>).put`` wrote a ``.pyc`` into the bytecode prefix and a ``late.py``
    into a solution's folder, excused as a compiler's write in the temp folder (red-team round 18, u01, u02)."""
    pytest.importorskip("triton.runtime.cache")
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / "triton"))
    kernel = tmp_path / "k" / "cache_writer.py"
    kernel.parent.mkdir()
    kernel.write_text("import triton.runtime.cache as c\n\n"
                      "def honest():\n    c.FileCacheManager('abc').put(b'x', 'k.bin')\n\n"
                      "def plant(target):\n    c.FileCacheManager(target).put(b'x', 'late.py')\n")  # fmt: skip
    audit = Audit([kernel.parent])
    with audit:
        spec = importlib.util.spec_from_file_location("cache_writer", kernel)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.honest()
    assert audit.events == [] and (tmp_path / "triton" / "abc" / "k.bin").is_file()
    with audit:
        module.plant(str(tmp_path / "temp" / "pycache"))
    assert {(e.rule, e.where.split(" ")[0]) for e in audit.events} == {("file-network-os", "cache_writer.py:7")}


def test_sys_getframe_on_the_kernels_own_line_is_introspection_red_team_round_19(tmp_path):
    """w04d: sys._getframe, reached by a name no rule follows, handed the harness's frames (its connection, its reply
    nonce) to the kernel. Asked on the kernel's own line it is recorded; asked by a library the kernel calls (logging
    reads its caller's frame) it is not."""
    kernel = tmp_path / "frames_kernel.py"
    kernel.write_text("import logging, operator, sys\n\n"
                      "def honest():\n    logging.getLogger('k').warning('x')\n    return 1\n\n"
                      "def cheat():\n    grab = operator.attrgetter('_getframe')(sys)\n    return grab(1)\n")  # fmt: skip
    module = _import_kernel(kernel, "frames_kernel")
    audit = Audit([tmp_path])
    with audit:
        module.honest()
    assert audit.events == []
    with audit:
        module.cheat()
    assert [(e.rule, e.event, e.where) for e in audit.events] == [
        ("introspection", "sys._getframe", "frames_kernel.py:9")]


def test_the_modules_that_judge_the_operator_record_are_watched(monkeypatch):
    """Red-team round 22, aa03 and aa08: the operator record is judged in the kernel's process by
    ``guard.dispatched`` and the tables it reads; a kernel that replaced ``vendor_dispatches`` with a function that
    finds nothing passed torch's own F.linear. The harness's snapshot holds them now."""
    from pytest_solbench.guard import dispatched, families
    from pytest_solbench.guard.tripwires import PLUGIN_MODULES

    held = Snapshot.take(extra_modules=PLUGIN_MODULES)
    monkeypatch.setattr(dispatched, "vendor_dispatches", lambda names, op_type: [])
    assert "pytest_solbench.guard.dispatched.vendor_dispatches" in held.changed()
    monkeypatch.undo()
    monkeypatch.setattr(families, "VENDOR_FAMILIES", ())
    assert "pytest_solbench.guard.families.VENDOR_FAMILIES" in held.changed()
    monkeypatch.undo()
    assert held.changed() == []
