"""The judge: verdicts decided in a process that never imports kernel code, from plain replies of the kernel's own
process; shared tensors; the reply schema; the outside clock; the judge-layer red team through the plugin."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_solbench.judge import corroborate, referee
from pytest_solbench.judge import kernel as judge_kernel
from pytest_solbench.judge import reply as schema
from pytest_solbench.protocol import ItemRequest, Status
from pytest_solbench.worker.shm import MEMFDS

ROOT = Path(__file__).resolve().parents[1]
REDTEAM = ROOT / "tests" / "redteam"
RMSNORM = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"


def _layer(path: Path) -> tuple[str, str]:
    import ast

    tree = ast.parse(path.read_text())
    found = {t.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name) and t.id in ("LAYER", "EXPECTED")}  # fmt: skip
    return found["LAYER"], found["EXPECTED"]


def _on_the_gpu(path: Path) -> str:
    """A red-team kernel's verdict on the GPU: ``EXPECTED_GPU`` where it differs from CPU mode's ``EXPECTED``."""
    import ast

    found = {t.id: ast.literal_eval(n.value) for n in ast.parse(path.read_text()).body if isinstance(n, ast.Assign)
             for t in n.targets if isinstance(t, ast.Name) and t.id == "EXPECTED_GPU"}  # fmt: skip
    return found.get("EXPECTED_GPU", _layer(path)[1])


JUDGE_KERNELS = {p.stem: _layer(p)[1] for p in sorted(REDTEAM.glob("judge_*.py")) if _layer(p)[0] == "judge"}


def _request(kernel_file: Path, rounds: int = 2) -> ItemRequest:
    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem

    workload = next(w for w in load_problem(RMSNORM).workloads if w.axes.get("num_tokens") == 7)
    (spec,), _ = discover([kernel_file])
    return ItemRequest(str(RMSNORM), workload.uuid, spec.to_payload(), "cpu", 0, rounds, False, guard=False,
                       timeout_s=120)  # fmt: skip


# ---------------------------------------------------------------- the reply schema


def _measurement(**changes):
    from pytest_solbench.measure.timing import summarize

    return {**summarize([1.0, 1.1, 0.9], "cupti").to_dict(), **changes}


def test_well_formed_replies_pass_the_schema() -> None:
    assert schema.load({"destination_passing": False, "trip": None, "ops": None})
    assert schema.load({"failure": "COMPILE_ERROR", "error": "SyntaxError", "ops": None})
    assert schema.load({"failure": "COMPILE_ERROR", "error": "SyntaxError", "ops": ["aten::bmm"]})
    out = [{"kind": "tensor", "dtype": "bfloat16", "shape": [7, 4096]}, {"kind": "number", "value": "nan"}]
    tripped = {"outputs": out, "trip": {"rule": "patching", "message": "m"}, "kernel_names": ["k"]}
    assert schema.calls({"calls": [tripped], "ops": ["aten::empty", "<record stopped>"], "kernel_s": 0.0}, 1)
    assert schema.measure({"measurement": _measurement(), "trip": None})
    assert schema.batch({"calls": 4, "trip": None}) and schema.ping({}) == {}
    assert schema.batch({"calls": 4, "trip": None, "ops": None})


def _one(**call):
    return {"calls": [{"outputs": None, "trip": None, "kernel_names": None, **call}], "ops": None, "kernel_s": 0.0}


@pytest.mark.parametrize("reply", [
    _one(status="PASSED"),  # a status: never the kernel's to say
    {**_one(), "status": "PASSED"},
    {"calls": [{"outputs": None, "trip": None}], "ops": None, "kernel_s": 0.0},  # a key missing
    {"calls": [{"outputs": None, "trip": None, "kernel_names": None}], "kernel_s": 0.0},
    _one(outputs="all good"),
    _one(outputs=[{"kind": "tensor", "dtype": "bfloat16", "shape": [-1]}]),
    _one(outputs=[{"kind": "number", "value": True}]),
    _one(trip={"rule": "Not A Rule", "message": ""}),
    {**_one(), "ops": "aten::mm"},  # a record is a list of names
    {**_one(), "ops": ["aten::" + "x" * 500]},
    {"calls": [{"error": 3}], "ops": None, "kernel_s": 0.0},
    {**_one(), "kernel_s": float("nan")},
    ["outputs"],
])  # fmt: skip
def test_a_call_reply_off_the_schema_is_refused(reply) -> None:
    with pytest.raises(schema.ReplyError):
        schema.calls(reply, 1)


@pytest.mark.parametrize("changes", [{"samples_ms": []}, {"samples_ms": [1.0, -1.0]}, {"samples_ms": [math.nan]},
                                     {"method": "trust_me"}, {"n": 1.5}, {"status": "PASSED"}, {"throttled": "no"}])
def test_a_measurement_off_the_schema_is_refused(changes) -> None:
    with pytest.raises(schema.ReplyError):
        schema.measure({"measurement": _measurement(**changes), "trip": None})
    with pytest.raises(schema.ReplyError):
        schema.load({"failure": "PASSED", "error": "a load failure cannot choose a passing status"})


# ---------------------------------------------------------------- the outside clock


def test_outside_clock_allows_the_judges_own_loop_per_call_once_more() -> None:
    """Seen on an H100 (2026-12-05): an honest 0.019 ms RMSNorm, 8 calls, wall 14.26 ms, round trip 5.79 ms, the
    judge's empty loop 4.21 ms: 0.53 ms per call left, over 2 x 0.019 + 0.25 ms. The kernel's process runs that loop
    under conditions the judge's copy cannot match, so its cost per call is allowed once more; a 2 ms call reported
    as 0.1 ms is still refused."""
    seen = corroborate.OutsideClock(batch_wall_ms=14.26, calls=8, round_trip_ms=5.79, fixed_ms=4.21)
    assert seen.allowance_ms == pytest.approx(0.25 + (corroborate.REQUEST_ALLOWANCE_MS + 4.21) / 8)
    assert corroborate.contradiction(0.019, seen) is None
    forged = corroborate.OutsideClock(batch_wall_ms=5.79 + 4.21 + 8 * 2.0, calls=8, round_trip_ms=5.79, fixed_ms=4.21)
    assert corroborate.contradiction(0.1, forged)


def test_outside_clock_shares_the_harness_work_of_a_request_over_its_calls() -> None:
    """Seen on an H100 (session 21): the paged decode example at batch 32, a batch of two calls (large inputs), wall
    3.602 ms, round trip 0.185 ms, the judge's loop 1.24 ms: 1.09 ms a call against a reported 0.064 ms. The
    harness's own work in the kernel's process, once a request, came to 2.2 to 3.5 ms there; shared over two calls it
    is no lie. A batch of sixteen shares it thin, and a 1 ms call reported as 0.1 ms is refused in either."""
    seen = corroborate.OutsideClock(batch_wall_ms=3.602, calls=2, round_trip_ms=0.185, fixed_ms=1.24)
    assert corroborate.contradiction(0.06394, seen) is None
    forged = corroborate.OutsideClock(batch_wall_ms=0.185 + 1.24 + 2 * 2.5, calls=2, round_trip_ms=0.185, fixed_ms=1.24)
    assert corroborate.contradiction(0.1, forged)
    many = corroborate.OutsideClock(batch_wall_ms=0.185 + 1.24 + 16 * 1.0, calls=16, round_trip_ms=0.185, fixed_ms=1.24)
    assert corroborate.contradiction(0.1, many)


def test_outside_clock_accepts_launch_overhead_and_refuses_a_forged_median() -> None:
    honest = corroborate.OutsideClock(batch_wall_ms=32 * 1.3 + 2.0, calls=32, round_trip_ms=0.5, fixed_ms=1.5)
    assert corroborate.contradiction(1.0, honest) is None  # 0.3 ms of host overhead per call is not a lie
    forged = corroborate.OutsideClock(batch_wall_ms=32 * 5.0 + 2.0, calls=32, round_trip_ms=0.5, fixed_ms=1.5)
    why = corroborate.contradiction(1.0, forged)
    assert why and "5 ms per call" in why
    short = corroborate.OutsideClock(batch_wall_ms=32 * 0.2, calls=32, round_trip_ms=0.0, fixed_ms=0.0)
    assert corroborate.contradiction(0.01, short) is None  # under the host allowance: not this check's to judge


# ---------------------------------------------------------------- shared tensors and plain replies


@pytest.fixture(params=["memfd", "file"])
def sharing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way a CPU tensor is shared: a sealed memfd (Linux), and the file that stands in where there are none
    (forced here)."""
    from pytest_solbench.worker import shm

    if request.param == "memfd" and not shm.MEMFDS:
        pytest.skip("no sealed memfds here (Linux only)")
    monkeypatch.setattr(shm, "MEMFDS", request.param == "memfd")
    return request.param


@pytest.fixture
def files_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback where memfds or seals are missing (not Linux), forced: a file per CPU tensor."""
    from pytest_solbench.worker import shm

    monkeypatch.setattr(shm, "MEMFDS", False)


needs_memfds = pytest.mark.skipif(not MEMFDS, reason="sealed memfds are Linux only")


def test_a_shared_tensor_is_the_same_memory_on_both_sides(sharing: str) -> None:
    import os

    import torch

    from pytest_solbench.worker import pool
    from pytest_solbench.worker.shm import Arena, attach, passed_fds

    with Arena("cpu") as arena:
        shared, desc = arena.share(torch.arange(6, dtype=torch.bfloat16).reshape(2, 3))
        out, out_desc = arena.empty((2, 3), torch.float32)
        json.dumps([desc, out_desc])  # plain data only
        assert desc["kind"] == {"memfd": "memfd", "file": "cpu"}[sharing]
        assert arena.push() is None  # the judge's bytes into the memfds or files, as before each request
        pool.PASSED.update({n: os.dup(n) for n in passed_fds([desc, out_desc])})  # as a request passes them
        try:
            theirs, their_out = attach(desc, "cpu"), attach(out_desc, "cpu")
        finally:
            pool._close_passed()  # as the request's end does: the mappings stay
        their_out.copy_(theirs.float() * 2)
        assert arena.pull() is None  # and back, as after each reply
        assert torch.equal(out, torch.arange(6, dtype=torch.float32).reshape(2, 3) * 2)
        assert theirs.untyped_storage().nbytes() == theirs.nbytes  # alone in its storage, like every other
        assert arena.share(3.5)[1] == {"kind": "value", "value": 3.5}


def test_a_request_passes_each_memfd_it_names_once_in_order() -> None:
    """What goes with a request: the descriptors its descriptions name, wherever they sit in it, each once (a
    timed batch names a set's inputs in several calls), and none for a file, a CUDA handle or a value."""
    from pytest_solbench.worker.shm import passed_fds

    memfd = lambda fd: {"kind": "memfd", "fd": fd, "nbytes": 4, "dtype": "float32", "shape": [1]}  # noqa: E731
    payload = {"key": "k", "sets": [{"inputs": [memfd(9), {"kind": "value", "value": 3}], "outputs": [memfd(7)]},
                                    {"inputs": [memfd(9), {"kind": "cpu", "path": "/x"}], "outputs": [memfd(8)]}],
               "timing": {"fd": 5}}  # fmt: skip
    assert passed_fds(payload) == [9, 7, 8]
    assert passed_fds({}) == [] and passed_fds({"inputs": [{"kind": "cuda", "ipc": [0]}]}) == []


def test_a_shared_file_cut_or_grown_by_the_kernel_is_said_and_put_back_never_a_sigbus_in_the_judge(
        files_only: None) -> None:  # fmt: skip
    """Red-team round 7 (h02, h08), in the fallback without sealed memfds: the files are the kernel's user's (it
    writes its outputs there); cut, a mapping of the judge's died of SIGBUS on its next read, and grown, they filled
    the machine's /dev/shm. The judge reads and writes them with plain calls, so it reads what is there and puts the
    size back."""
    import os

    import torch

    from pytest_solbench.worker.shm import Arena

    with Arena("cpu") as arena:
        ours, desc = arena.share(torch.arange(1024, dtype=torch.float32))
        assert arena.push() is None
        os.truncate(desc["path"], 0)
        why = arena.pull()
        assert why and "from 4,096 to 0 bytes" in why
        assert os.path.getsize(desc["path"]) == 4096 and ours.sum().item() == 0  # what the file held: read, no SIGBUS
        os.truncate(desc["path"], 1 << 20)
        assert "to 1,048,576 bytes" in arena.push() and os.path.getsize(desc["path"]) == 4096


@needs_memfds
def test_a_kernels_process_cannot_cut_or_grow_a_shared_tensor_even_after_the_judge_let_it_go() -> None:
    """Red-team round 7 (h02, h08) and 7b (i02): with the judge's files, a kernel's process cut them (a SIGBUS) or
    grew them, and one that kept a descriptor grew it after the judge had closed it, 1 GiB a file, into the
    machine's /dev/shm. A sealed memfd refuses every change of size to every holder: EPERM, during the exchange and
    after it."""
    import torch

    from pytest_solbench.worker.pool import WorkerPool
    from pytest_solbench.worker.shm import Arena, passed_fds

    refused = {"ftruncate-cut": "EPERM", "ftruncate-grow": "EPERM", "write-past-end": "EPERM", "fallocate": "EPERM",
               "truncate-reopened": "EPERM", "size": "0"}  # fmt: skip
    with WorkerPool(plain=True) as other:
        with Arena("cpu") as arena:
            ours, desc = arena.share(torch.arange(1024, dtype=torch.float32))
            assert arena.push() is None
            payload = {"input": desc, "device": "cpu"}
            assert other.call("judge_fakes:resize", payload, 120, fds=passed_fds(payload)) == refused
            assert arena.pull() is None and torch.equal(ours, torch.arange(1024, dtype=torch.float32))
        assert other.call("judge_fakes:resize_held", None, 120) == refused  # the judge's side is closed by now


@needs_memfds
def test_the_judges_folders_hold_no_file_while_a_kernels_process_holds_its_tensors() -> None:
    """Nothing of the judge's lies in /dev/shm (or the temp folder) to cut, grow or sweep: the kernel's process
    maps memfds."""
    import torch

    from pytest_solbench.worker.pool import WorkerPool
    from pytest_solbench.worker.shm import MEMFD_NAME, Arena, passed_fds

    with WorkerPool(plain=True, shared_folders=True) as other, Arena("cpu", other.shared_dirs) as arena:
        tensors = [arena.share(torch.ones(n))[1] for n in (1, 1000, 1 << 20)]
        arena.push()
        payload = {"tensors": tensors, "folders": list(other.shared_dirs)}
        seen = other.call("judge_fakes:shared_files", payload, 120, fds=passed_fds(payload))
    assert seen == {"files": [], "mapped": [f"/memfd:{MEMFD_NAME} (deleted)"], "held": 3}


@needs_memfds
@pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own for the kernel's process: root only")
def test_a_kernels_process_of_its_own_user_maps_the_judges_memfds_and_cannot_resize_them() -> None:
    """Under confinement the kernel's process runs as a user of its own (``own-user``) with a private /dev/shm: a
    passed descriptor needs no permission, so it maps the judge's (root's) memfds and writes its outputs there, and
    the seals refuse it every change of size as they refuse root."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="solbench-test-") as root:  # pytest's is closed to other users
        os.chmod(root, 0o755)
        _resize_as_its_own_user(root)


def _resize_as_its_own_user(root: str) -> None:
    """The test's body, with ``root`` the confined process's temp root, passable by its user."""
    import torch

    from pytest_solbench.guard.confine import OWN_UID_BASE
    from pytest_solbench.worker.pool import WorkerPool
    from pytest_solbench.worker.shm import Arena, passed_fds

    env = {"SOLBENCH_CONFINE": "1", "SOLBENCH_CONFINE_ROOT": root, "TRITON_INTERPRET": "1"}
    with WorkerPool(plain=True, shared_folders=True, env=env,
                    initializer="pytest_solbench.worker.execute:confined_warm_up") as other:  # fmt: skip
        confined = other.call("judge_fakes:confinement", None, 120)
        if "own-user" not in confined["in_force"]:
            pytest.skip(f"own-user is not in force here: {confined['missing'].get('own-user')}")
        assert confined["uid"] >= OWN_UID_BASE and "private-shm" in confined["in_force"]
        with Arena("cpu", other.shared_dirs) as arena:
            source, source_desc = arena.share(torch.arange(1024, dtype=torch.float32))
            target, target_desc = arena.share(torch.full((1024,), float("nan")))
            arena.push()
            payload = {"input": source_desc, "output": target_desc, "device": "cpu"}
            other.call("judge_fakes:double_into", payload, 120, fds=passed_fds(payload))
            assert arena.pull() is None and torch.equal(target, source * 2)
            payload = {"input": source_desc, "device": "cpu"}
            tried = other.call("judge_fakes:resize", payload, 120, fds=passed_fds(payload))
            assert set(tried.values()) == {"EPERM", "0"} and arena.pull() is None


def test_more_tensors_than_one_message_can_pass_go_with_one_request(sharing: str) -> None:
    """Linux passes at most 253 descriptors in a message (SCM_MAX_FD): a request with more sends them in several."""
    import torch

    from pytest_solbench.worker.pool import FDS_PER_MESSAGE, WorkerPool
    from pytest_solbench.worker.shm import Arena, passed_fds

    count = 2 * FDS_PER_MESSAGE + 7
    with WorkerPool(plain=True) as other, Arena("cpu") as arena:
        inputs = [arena.share(torch.full((4,), float(k)))[1] for k in range(count)]
        out, out_desc = arena.empty((4,), torch.float32)
        arena.push()
        payload = {"inputs": inputs, "output": out_desc}
        assert len(passed_fds(payload)) == (count + 1 if sharing == "memfd" else 0)
        other.call("judge_fakes:add_all", payload, 120, fds=passed_fds(payload))
        assert arena.pull() is None
        assert torch.equal(out, torch.full((4,), float(sum(range(count)))))
        assert other.call("worker_targets:echo", [1], 60)["payload"] == [1]  # no frame moved: the channel still works


def test_folders_a_dead_judge_left_are_swept_and_a_living_ones_are_kept(tmp_path: Path) -> None:
    """Red-team round 3 (c10): a judge killed mid-item left its shared files in /dev/shm for good."""
    import os

    from pytest_solbench.worker import shm

    pid_max = Path("/proc/sys/kernel/pid_max")
    never = int(pid_max.read_text()) + 7 if pid_max.exists() else 2**31 - 7  # no process has this pid
    dead = tmp_path / f"{shm.FOLDER_PREFIX}{never}-abc"
    living = tmp_path / f"{shm.FOLDER_PREFIX}{os.getpid()}-def"
    other = tmp_path / "solbench-unrelated"
    for folder in (dead, living, other):
        folder.mkdir()
        (folder / "tensor").write_bytes(b"x")
    assert shm.sweep(str(tmp_path)) == [dead.name]
    assert not dead.exists() and living.exists() and other.exists()


def _cuda() -> bool:
    import os

    import torch

    return torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET", "0") in ("", "0")


@pytest.mark.parametrize("device", ["cpu", "cpu-files", "cuda"])
def test_a_kernel_process_writes_the_judges_memory_through_shared_tensors(device: str, monkeypatch) -> None:
    """The description crosses (a memfd passed with the request, a file's path where there are none, or a CUDA IPC
    handle); the bytes written over there are read here."""
    import torch

    from pytest_solbench.worker import shm

    if device == "cpu-files":  # the fallback, forced
        monkeypatch.setattr(shm, "MEMFDS", False)
        device = "cpu"

    from pytest_solbench.worker.pool import WorkerPool
    from pytest_solbench.worker.shm import Arena, passed_fds

    if device == "cuda" and not _cuda():
        pytest.skip("CUDA IPC needs a GPU")
    with Arena(device) as arena, WorkerPool(plain=True) as other:
        source, source_desc = arena.share(torch.arange(12, dtype=torch.float32, device=device).reshape(3, 4))
        target, target_desc = arena.share(torch.full((3, 4), float("nan"), device=device))
        if device == "cuda":
            torch.cuda.synchronize()
        assert arena.push() is None
        payload = {"input": source_desc, "output": target_desc, "device": device}
        other.call("judge_fakes:double_into", payload, 120, fds=passed_fds(payload))
        assert arena.pull() is None
        assert torch.equal(target, source * 2)


def test_the_judge_gets_its_shared_cuda_blocks_back_when_the_exchange_is_over() -> None:
    """A receiver that holds on (or, confined, cannot reach torch's files of counts) would keep every shared block
    allocated for the session: closing the exchange gives its count up, and the block returns to the pool."""
    import torch

    from pytest_solbench.worker.pool import WorkerPool
    from pytest_solbench.worker.cuda_blocks import ipc_count
    from pytest_solbench.worker.shm import Arena

    if not _cuda():
        pytest.skip("CUDA IPC needs a GPU")
    with WorkerPool(plain=True) as other:
        arena = Arena("cuda", ("kernel-a",))
        source, source_desc = arena.share(torch.ones(1 << 20, device="cuda"))
        _, target_desc = arena.share(torch.zeros(1 << 20, device="cuda"))
        torch.cuda.synchronize()
        other.call("judge_fakes:double_into_and_hold", {"input": source_desc, "output": target_desc, "device": "cuda"},
                   120)  # fmt: skip
        counts = [(bytes.fromhex(d["ipc"][4]), d["ipc"][5]) for d in (source_desc, target_desc)]
        # held over there: torch 2.11 on an H100 read 0 here, not 1, with the receiver still holding both blocks
        # (twice, 2026-12-06), so how torch counts a receiver is open; the count never goes above one receiver's
        assert all(ipc_count(*c) in (0, 1) for c in counts)
        del source
        arena.close()
        assert [ipc_count(*c) for c in counts] == [0, 0]


def test_the_counts_of_an_exchanges_blocks_are_read_one_file_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """Closing an exchange gives up the receiver's count of every block still counted, reading each file of counts
    once; a slot past a file's end or a file that cannot be read counts as nothing."""
    import torch

    from pytest_solbench.worker import cuda_blocks, shm

    monkeypatch.setattr(shm, "SHM", str(tmp_path))
    (tmp_path / "counts_a").write_bytes(b"".join(n.to_bytes(8, "little", signed=True) for n in (1, 0, 2)))
    released: list = []
    monkeypatch.setattr(torch.UntypedStorage, "_release_ipc_counter_cuda",
                        staticmethod(lambda name, slot: released.append((name, slot))), raising=False)  # fmt: skip
    assert cuda_blocks.ipc_counts(b"/counts_a", [0, 1, 2, 3]) == {0: 1, 1: 0, 2: 2}
    assert cuda_blocks.ipc_count(b"/counts_a", 2) == 2 and cuda_blocks.ipc_count(b"/missing", 0) is None
    cuda_blocks.release_ipc_counts([(b"/counts_a", 0), (b"/counts_a", 1), (b"/counts_a", 2), (b"/missing", 0)])
    assert released == [(b"/counts_a", 0), (b"/counts_a", 2)]


def test_shared_blocks_go_to_a_pool_on_a_numbered_card_when_the_device_is_plain_cuda(monkeypatch) -> None:
    """torch's pool API refuses a device without a card number ("cuda"), the device string a problem run gets: the
    first GPU run of the judge failed every item so. The card in use is named instead; each exchange has a pool of its
    own (kept per kernel, the pools came to hold 47 GiB of free segments on an H100, session 19)."""
    import torch

    from pytest_solbench.worker import cuda_blocks

    asked: list = []
    monkeypatch.setattr(torch.cuda, "MemPool", lambda: object(), raising=False)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    monkeypatch.setattr(torch.cuda, "use_mem_pool", lambda pool, device: asked.append((pool, device)), raising=False)
    first, second = cuda_blocks.new_pool(), cuda_blocks.new_pool()
    cuda_blocks.shared_segments("cuda", first)
    cuda_blocks.shared_segments("cuda:3", second)
    assert [device for _, device in asked] == [torch.device("cuda", 3)] * 2
    assert asked[0][0] is first and asked[1][0] is second and first is not second  # a pool per exchange


def test_the_health_check_answers_a_pools_call_with_its_payload() -> None:
    """The judge asks a kernel's pool after a failed GPU item; a pool's call passes a payload. A check that could
    not take it failed every time, so every failed GPU item blamed (and retired) a healthy CUDA context."""
    from pytest_solbench.judge.kernel import HEALTH
    from pytest_solbench.worker.pool import WorkerPool

    with WorkerPool(plain=True) as pool:
        assert pool.call(HEALTH, None, 60) is True


def test_the_outside_clocks_sets_are_mapped_before_their_values_are_written(fresh_pools) -> None:
    """Opening the judge's tensors happens before the clock starts, and then they hold poison only: the values are
    written after the kernel's process has mapped them, so it cannot work out the batch ahead."""
    import torch

    from pytest_solbench.judge import timed
    from pytest_solbench.worker.shm import Arena

    args = [torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.tensor([1, 2], dtype=torch.int32), 3]
    with Arena("cpu") as arena:
        shared = [timed._poisoned(arena, a)[0] for a in args[:2]]
        s = timed._Set(shared, [], {}, args)
        assert torch.isnan(shared[0]).all() and not torch.equal(shared[1], args[1])
        timed._reveal([s])
        assert torch.equal(shared[0], args[0]) and torch.equal(shared[1], args[1])


def test_a_plain_worker_answers_in_json_and_a_pickle_on_its_channel_is_malformed() -> None:
    from pytest_solbench.worker.pool import MALFORMED, WorkerError, WorkerPool

    with WorkerPool(plain=True) as pool:
        assert pool.call("worker_targets:echo", [1, "a"], 60)["payload"] == [1, "a"]
        with pytest.raises(WorkerError) as raised:
            pool.call("judge_fakes:_write", b"\x80\x04N.", 60)  # a pickle where JSON must be
        assert raised.value.malformed and raised.value.status == MALFORMED
        with pytest.raises(WorkerError) as raised:
            pool.call("worker_targets:unpicklable", None, 60)
        assert raised.value.status == "RUNTIME_ERROR"  # not JSON-able: the harness's own error, still plain


# ---------------------------------------------------------------- the judge


def test_the_judge_never_imports_kernel_code_and_a_patched_status_cannot_pass(fresh_pools) -> None:
    from pytest_solbench.protocol import Status as Before

    outcome = referee.judge_item(_request(REDTEAM / "judge_status_rebind.py"))
    assert outcome.status is Status.INCORRECT_NUMERICAL, outcome.log
    assert [m for m in sys.modules if m.startswith("solbench_kernel")] == []
    assert Status.INCORRECT_NUMERICAL.value == "INCORRECT_NUMERICAL" and Status is Before


def test_a_kernels_process_found_stopped_is_said_to_be_stopped_not_slow(fresh_pools, tmp_path: Path) -> None:
    """Round 12, n08: a process stopped by a signal (another kernel's, through a pidfd) was reported as a kernel that
    "did not finish within the item's 600 s", blaming the kernel it served; the pool's own reason now stands."""
    kernel = tmp_path / "stops_itself.py"
    kernel.write_text('import os, signal\nDEFINITION = "llama3_1_8b_rmsnorm_h4096"\n\n'
                      "def run(hidden_states, weight):\n    os.kill(os.getpid(), signal.SIGSTOP)\n")  # fmt: skip
    outcome = referee.judge_item(_request(kernel, rounds=1))
    assert outcome.status is Status.TIMEOUT and "stopped by a signal" in outcome.log, outcome.log
    assert "did not finish the" not in outcome.log


def test_a_judge_process_never_imports_kernel_code(tmp_path: Path) -> None:
    from pytest_solbench.worker.pool import WorkerPool

    with WorkerPool(env={"TRITON_INTERPRET": "1"}) as judge:
        request = _request(ROOT / "examples" / "triton_rmsnorm.py", rounds=1)
        outcome = judge.call("pytest_solbench.judge.referee:judge_item", request, 300)
        assert outcome.status is Status.PASSED, outcome.log
        assert judge.call("worker_targets:kernel_modules", None, 60) == []


@pytest.mark.parametrize("mode", ["status", "extra", "wrong-type", "pickle", "not-json", "outer-keys"])
def test_a_kernel_process_that_answers_off_the_schema_fails_its_item(fresh_pools, monkeypatch, mode) -> None:
    monkeypatch.setenv("SOLBENCH_FAKE_REPLY", mode)
    monkeypatch.setattr(judge_kernel, "HARNESS", "judge_fakes")
    outcome = referee.judge_item(_request(ROOT / "examples" / "triton_rmsnorm.py", rounds=1))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "reply-schema"), outcome.log


def test_a_reply_its_validator_cannot_even_read_is_off_the_schema(fresh_pools) -> None:
    """Red-team round 8, j04: a value nested a little under the decoder's limit passes json.loads but makes the
    validator's own message (its repr) raise RecursionError; that too is REWARD_HACK [reply-schema], never the
    judge's crash. The depth that does it depends on the stack, so the validator here raises it itself."""

    def too_deep(value):
        raise RecursionError("maximum recursion depth exceeded while getting the repr of an object")

    kernel = referee.Kernel(_request(ROOT / "examples" / "triton_rmsnorm.py", rounds=1))
    with pytest.raises(referee.Verdict) as raised:
        kernel.ask("ping", {}, too_deep)
    assert (raised.value.outcome.status, raised.value.outcome.rule) == (Status.REWARD_HACK, "reply-schema")
    assert "RecursionError" in raised.value.outcome.log


SLEEPY = """
import time

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    time.sleep(0.02)
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def test_a_forged_median_is_refused_by_the_outside_clock(fresh_pools, monkeypatch, tmp_path: Path) -> None:
    """The kernel's process divides its samples by 1000; each call sleeps 20 ms, which no load can shorten, so the
    judge's wall clock over its batch contradicts the report whatever the machine is doing."""
    from dataclasses import replace

    from pytest_solbench.protocol import TimingRequest

    monkeypatch.setenv("SOLBENCH_FAKE_REPLY", "forge-time")
    monkeypatch.setattr(judge_kernel, "HARNESS", "judge_fakes")
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    request = replace(_request(tmp_path / "sleepy.py", rounds=1), time_kernel=True,
                      timing=TimingRequest(max_time_s=0.5, timer="events"))  # fmt: skip
    outcome = referee.judge_item(request)
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "outside-clock"), outcome.log
    assert outcome.kernel_timing["median_ms"] < 1.0  # what it claimed, kept for the record


REPLAYS = """
import time

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
_SEEN = {}


def run(hidden_states, weight):
    key = hidden_states.flatten()[:16].float().numpy().tobytes()  # a repeat told by a few values
    if key not in _SEEN:
        time.sleep(0.05)  # the work, done once per input set
        x = hidden_states.float()
        _SEEN[key] = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
    return _SEEN[key].clone()
"""


def _timed_on_cpu(kernel_file: Path) -> ItemRequest:
    from dataclasses import replace

    from pytest_solbench.protocol import TimingRequest

    return replace(_request(kernel_file, rounds=1), time_kernel=True, timing=TimingRequest(max_time_s=0.5,
                                                                                         timer="events"))


def test_every_kernels_process_is_stopped_while_a_baseline_is_timed(fresh_pools, monkeypatch) -> None:
    """Red-team round 8, m4: the baseline is timed right after the first kernel that passed on its workload; that
    kernel's process (and a helper thread it left running) could load the GPU or the host while the reference is
    timed, inflating T_b and every score on the workload. Every kernel's process is stopped while a baseline is
    judged, seen here by a spy on the timing itself, and let go after: the kernel's next item runs in the same
    process (closing it would cost a rebuild of its kernel per workload)."""
    from dataclasses import replace

    from pytest_solbench.data.kernels import reference_kernel
    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.judge import timed
    from pytest_solbench.worker.pool import is_stopped

    honest = _timed_on_cpu(ROOT / "examples" / "triton_rmsnorm.py")
    assert referee.judge_item(replace(honest, time_kernel=False)).status is Status.PASSED
    kernels = fresh_pools["cpu", False]
    alive = [pid for pids in kernels.worker_pids().values() for pid in pids]
    assert alive, "the kernel's process should still be up after its item"
    seen: list = []
    real = timed.check_timed

    def spy(*args, **kwargs):
        seen.append([is_stopped(pid) for pid in alive])
        return real(*args, **kwargs)

    monkeypatch.setattr(timed, "check_timed", spy)
    reference = reference_kernel(load_problem(RMSNORM).definition).to_payload()
    baseline = referee.judge_item(replace(honest, kernel=reference, rounds=0))
    assert baseline.kernel_timing is not None, baseline.log
    assert seen == [[True] * len(alive)]  # every kernel's process stopped when the reference's timing began
    assert all(_alive(pid) and not is_stopped(pid) for pid in alive)  # and let go after
    assert referee.judge_item(replace(honest, time_kernel=False)).status is Status.PASSED
    assert [pid for pids in kernels.worker_pids().values() for pid in pids] == alive  # the same process served it


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_kernel_that_replays_repeated_timed_sets_is_refused_by_the_outside_clock_on_fresh_inputs(
        fresh_pools, tmp_path: Path) -> None:  # fmt: skip
    """Red-team round 2 (c19): the timed sets repeat, so a kernel that recognises a repeat computes each set once and
    replays it, right every time, and its samples time the replay. The judge's own batch runs on inputs never shown
    before: each of its calls sleeps 50 ms, which no load can shorten, against a reported median of a copy."""
    (tmp_path / "replays.py").write_text(REPLAYS)
    outcome = referee.judge_item(_timed_on_cpu(tmp_path / "replays.py"))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "outside-clock"), outcome.log
    assert outcome.kernel_timing["median_ms"] < 25  # the replays it timed


def test_an_honest_kernel_timed_on_cpu_agrees_with_the_outside_clock(fresh_pools, tmp_path: Path) -> None:
    """The same 50 ms of work on every call: the outside clock over fresh inputs agrees with the samples (the limit
    is twice the median plus 0.25 ms, so only 50 ms of overhead per call could fail it)."""
    (tmp_path / "sleepy.py").write_text(SLEEPY.replace("0.02", "0.05"))
    outcome = referee.judge_item(_timed_on_cpu(tmp_path / "sleepy.py"))
    assert outcome.status is Status.PASSED, outcome.log
    assert any("on fresh inputs" in note for note in outcome.kernel_timing["notes"]), outcome.kernel_timing


def test_the_judges_scan_after_each_reply_is_not_on_the_outside_clock(fresh_pools, monkeypatch, tmp_path) -> None:
    """Red-team round 6 (g09, g11): the scan for a kernel's strays after each reply fell inside the outside clock's
    batch, and processes added after the pre-import pings made it slower there than in the round trip subtracted:
    an honest fast kernel failed [outside-clock]. Here every scan after a timed request takes 4 s (over 100 ms per
    call of a 32-call batch, twice the 50 ms of work): none of it may count."""
    from pytest_solbench.worker import pool as pool_module

    real_call = pool_module._Worker.call

    def call(self, target, args, timeout_s, on_reply=None, fds=()):
        self.timed_request = target.endswith(":timed")
        return real_call(self, target, args, timeout_s, on_reply, fds)

    def slow_scan(self) -> list[int]:
        if getattr(self, "timed_request", False):
            time.sleep(4.0)
        return []

    monkeypatch.setattr(pool_module._Worker, "call", call)
    monkeypatch.setattr(pool_module._Worker, "_kill_strays", slow_scan)
    (tmp_path / "sleepy.py").write_text(SLEEPY.replace("0.02", "0.05"))
    outcome = referee.judge_item(_timed_on_cpu(tmp_path / "sleepy.py"))
    assert outcome.status is Status.PASSED, outcome.log
    assert any("on fresh inputs" in note for note in outcome.kernel_timing["notes"]), outcome.kernel_timing


def test_one_slow_outside_batch_does_not_fail_an_honest_kernel(fresh_pools, monkeypatch, tmp_path) -> None:
    """Noise only ever adds time to the judge's batch (a busy host, a late reply): an honest kernel whose first
    outside batch was held up 4 s (over 100 ms per call, twice its work) is tried on another batch of fresh inputs,
    and the fastest batch stands. A forged or replaying kernel contradicts every batch (tests above)."""
    from pytest_solbench.worker import pool as pool_module

    real_call, real_reply = pool_module._Worker.call, pool_module._Worker._reply
    seen = {"outside": 0}

    def call(self, target, args, timeout_s, on_reply=None, fds=()):
        self.outside = target.endswith(":timed") and bool(args[0].get("check_later"))
        seen["outside"] += self.outside
        return real_call(self, target, args, timeout_s, on_reply, fds)

    def reply(self, what, timeout_s, offset, started=None):
        if getattr(self, "outside", False) and seen["outside"] == 1:
            time.sleep(4.0)  # inside the send-to-reply window the judge's clock reads
        return real_reply(self, what, timeout_s, offset, started)

    monkeypatch.setattr(pool_module._Worker, "call", call)
    monkeypatch.setattr(pool_module._Worker, "_reply", reply)
    (tmp_path / "sleepy.py").write_text(SLEEPY.replace("0.02", "0.05"))
    outcome = referee.judge_item(_timed_on_cpu(tmp_path / "sleepy.py"))
    assert outcome.status is Status.PASSED, outcome.log
    assert seen["outside"] == 2
    assert any("the fastest of 2 batches" in note for note in outcome.kernel_timing["notes"]), outcome.kernel_timing


def test_the_outside_batch_is_checked_as_the_reply_left_it(fresh_pools, monkeypatch, tmp_path: Path) -> None:
    """Red-team round 8 (j01): the judge read the outside batch's outputs after a second request ("checked"), so a
    kernel could return from every call at once and have a helper do the work while the judge waited for that
    reply: PASSED on a clock that timed calls doing none of it. Now the picked calls are copied as the timed reply
    left them. Here every tensor the judge holds is zeroed just before "checked" (what a late writer could change):
    the honest kernel still passes, so nothing written after the reply is what the judge checks."""
    real_ask = referee.Kernel.ask
    zeroed = {"checked": 0}

    def ask(self, what, payload, validate):
        if what == "checked":
            zeroed["checked"] += 1
            for arena in self._arenas:
                for _fd, own in arena._files:  # the judge's own bytes of each shared tensor (CPU)
                    own.zero_()
        return real_ask(self, what, payload, validate)

    monkeypatch.setattr(referee.Kernel, "ask", ask)
    (tmp_path / "sleepy.py").write_text(SLEEPY.replace("0.02", "0.05"))
    outcome = referee.judge_item(_timed_on_cpu(tmp_path / "sleepy.py"))
    assert outcome.status is Status.PASSED, outcome.log
    assert zeroed["checked"] >= 1


def test_timed_seeds_are_a_keyed_hash_no_set_gives_another_away(monkeypatch) -> None:
    """Red-team round 8 (m1): the timed and outside sets' seeds were linear in their index with one secret per
    session, so a kernel that searched one set's 31-bit seed from its values knew every later set's. Now each is a
    keyed hash: the steps between consecutive seeds differ, and another judge process (another key) draws others."""
    from pytest_solbench.judge import timed

    monkeypatch.setattr(timed, "_SECRET", {})
    seeds = [timed._timed_seed(7, "uuid-1", timed.FRESH_ROUND + k) for k in range(8)]
    assert len({b - a for a, b in zip(seeds, seeds[1:])}) == len(seeds) - 1
    assert all(0 <= seed < 2**31 for seed in seeds)
    assert seeds == [timed._timed_seed(7, "uuid-1", timed.FRESH_ROUND + k) for k in range(8)]  # one judge: stable
    monkeypatch.setattr(timed, "_SECRET", {})
    assert seeds != [timed._timed_seed(7, "uuid-1", timed.FRESH_ROUND + k) for k in range(8)]


def test_the_judges_own_measures_run_with_the_kernels_processes_stopped(tmp_path: Path) -> None:
    """Red-team round 8 (m2): threads a kernel leaves spinning on the host's cores slow the judge's own empty batch,
    which is subtracted from the outside clock's figure and allowed on top. ``Kernel.paused`` stops every process of
    the judge's kernels while it measures, and lets them go after."""
    import subprocess

    from pytest_solbench.worker.pool import is_stopped

    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        kernel = object.__new__(referee.Kernel)
        kernel.pools = SimpleNamespace(worker_pids=lambda: {"k": [spinner.pid]})
        with kernel.paused():
            assert is_stopped(spinner.pid)
        deadline = time.monotonic() + 10
        while is_stopped(spinner.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not is_stopped(spinner.pid) and spinner.poll() is None
    finally:
        spinner.kill()
        spinner.wait()


def test_an_older_kernels_retirement_is_not_on_the_next_items_clock(monkeypatch, tmp_path: Path) -> None:
    """Red-team round 6 (g03): the pool of the previous kernel was retired inside this item's first request, after
    its deadline was set, so a retirement that stalled took its time from an honest kernel. Here the retirement
    takes 1000 s by the judge's clock."""
    clock = {"now": 0.0}

    class Pools:
        def pool(self, tenant: str) -> None:
            clock["now"] += 1000.0  # an older kernel's pool retired on the way

    monkeypatch.setattr(judge_kernel, "kernel_pools", lambda device, reference=False: Pools())
    monkeypatch.setattr(judge_kernel, "time", SimpleNamespace(monotonic=lambda: clock["now"]))
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    request = _request(tmp_path / "sleepy.py")
    kernel = referee.Kernel(request)
    assert kernel.deadline == clock["now"] + request.timeout_s == 1000.0 + request.timeout_s


def _request_on(problem: str, kernel_file: Path, axes: dict, guard: bool) -> ItemRequest:
    from dataclasses import replace

    from pytest_solbench.data.discovery import discover
    from pytest_solbench.data.trace import load_problem

    path = ROOT / "problems" / problem / "definition.json"
    workload = next(w for w in load_problem(path).workloads if w.axes == axes)
    (spec,), _ = discover([kernel_file])
    return replace(_request(kernel_file), definition_path=str(path), workload_uuid=workload.uuid,
                   kernel=spec.to_payload(), guard=guard)  # fmt: skip


TELLER = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight, output):
    if not bool(torch.isnan(output).all()):
        raise RuntimeError("told a timed call from a checked one by its output buffer")
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
"""


def test_timed_outputs_are_poisoned_as_checked_ones_so_nothing_tells_them_apart(fresh_pools, tmp_path) -> None:
    """Red-team round 3 (c02): timed outputs were zeroed and checked ones NaN, so one element told them apart (a
    top-k kernel wrote only its survivors when timed). Now every call's buffer holds the same poison: a kernel that
    raises on any other buffer passes (it raised in the timed batch before), and the top-k one does the work."""
    (tmp_path / "teller.py").write_text(TELLER)
    told = referee.judge_item(_request(tmp_path / "teller.py"))
    assert told.status is Status.PASSED, told.log
    outcome = referee.judge_item(_request_on("llama3_1_8b_top_k_top_p_renorm_v128256",
                                             REDTEAM / "hack_r3_zeroed_outputs_tell.py", {"batch_size": 1}, False))
    assert outcome.status is Status.PASSED, outcome.log


HONEST_ROPE = """
import torch

DEFINITION = "qwen3_8b_rope_cos_sin_cache_q32_kv8_d128"


def run(positions, q, k, cos_sin_cache):
    cos, sin = cos_sin_cache[positions].float().chunk(2, dim=-1)
    out = []
    for x in (q, k):
        x1, x2 = x.float().chunk(2, dim=-1)
        c, s = cos[:, None, :], sin[:, None, :]
        out.append(torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).to(x.dtype))
    return tuple(out)
"""


@pytest.mark.parametrize("problem, kernel, axes", [
    ("qwen3_8b_rope_cos_sin_cache_q32_kv8_d128", "hack_r67_rope_table_from_theta", {"num_tokens": 7}),
    ("llama3_1_8b_cross_entropy_backward_v128256", "hack_r68_cross_entropy_grad_assumed", {"num_tokens": 8}),
])  # fmt: skip
def test_a_kernel_that_ignores_an_input_every_seed_makes_alike_is_wrong_on_its_other_values(fresh_pools, problem,
                                                                                              kernel, axes) -> None:
    """Red-team round 67, en01: the factory makes the same table for every seed (RoPE's cos/sin cache, a mean loss's
    gradient), so a kernel computing it from the model's constants agreed in every round. From the second round on
    the judge scales such an input element by element (``judge.constant_inputs``)."""
    outcome = referee.judge_item(_request_on(problem, REDTEAM / f"{kernel}.py", axes, False))
    assert outcome.status is Status.INCORRECT_NUMERICAL, outcome.log
    assert "round 2" in outcome.log, outcome.log


def test_a_kernel_that_reads_the_table_passes_on_its_other_values(fresh_pools, tmp_path: Path) -> None:
    (tmp_path / "rope.py").write_text(HONEST_ROPE)
    request = _request_on("qwen3_8b_rope_cos_sin_cache_q32_kv8_d128", tmp_path / "rope.py", {"num_tokens": 7}, False)
    outcome = referee.judge_item(request)
    assert outcome.status is Status.PASSED, outcome.log


@pytest.mark.parametrize("problem, kernel, honest, axes", [
    ("gpt_oss_120b_moe_swiglu_clamp_i2880", "hack_r68_swiglu_clamp_left_out", "swiglu_clamp_in_triton",
     {"num_rows": 28}),
    ("gemma2_9b_sliding_window_softcap_prefill_h16_kv8_d256_w4096", "hack_r68_attention_softcap_left_out",
     "softcap_attention_in_triton", {"batch_size": 1, "seq_len": 128}),
])  # fmt: skip
def test_inputs_reach_the_regime_that_sets_the_op_apart(fresh_pools, problem, kernel, honest, axes) -> None:
    """Red-team round 68, ep01 and ep02: randn inputs never reached gpt-oss's clamp at 7 or Gemma-2's softcap at 50,
    so kernels that left them out matched the reference; the problems' inputs now reach both, and the Triton twins
    that keep them pass."""
    outcome = referee.judge_item(_request_on(problem, REDTEAM / f"{kernel}.py", axes, False))
    assert outcome.status is Status.INCORRECT_NUMERICAL, outcome.log
    outcome = referee.judge_item(_request_on(problem, ROOT / "tests" / "lookalikes" / f"{honest}.py", axes, True))
    assert outcome.status is Status.PASSED, outcome.log


@pytest.mark.parametrize("problem, kernel, axes", [
    ("llama3_1_8b_rmsnorm_h4096", "hack_r65_rmsnorm_seven_eighths", {"num_tokens": 1}),
    ("sd_vae_ft_mse_groupnorm_silu_c512", "hack_r66_groupnorm_strided_statistics",
     {"batch_size": 1, "height": 64, "width": 64}),
    ("deepseek_v3_mla_ragged_prefill_causal_tp8_h16_qk192_vo128", "hack_r69_ragged_prefill_dense_batch",
     {"batch_size": 2, "total_q": 64, "total_kv": 576}),
    ("deepseek_v3_2_exp_dsa_sparse_mla_decode_h128_ckv512_kpe64_topk2048", "hack_r71_sparse_mla_pv_top_keys",
     {"batch_size": 1, "kv_len": 1000, "num_pages": 20}),
    ("qwen3_8b_top_k_top_p_renorm_v151936", "hack_r73_topk_topp_without_top_p", {"batch_size": 7}),
])  # fmt: skip
def test_a_reduction_over_part_of_its_elements_is_wrong_on_inputs_with_outliers(fresh_pools, problem, kernel,
                                                                                  axes) -> None:
    """Red-team rounds 65 and 66, eh03 and ek01: statistics from 7/8 of a row or a quarter of a group stayed within
    the tolerance over plain randn; the random rule's outliers make every element weigh. Round 69, et02: a ragged
    prefill read as equal chunks; the chunks differ now. Round 71, ey02: P.V over the strongest 9 % of a sparse MLA
    decode's keys, where unit queries made the softmax one-hot; the queries give scores of unit spread now."""
    outcome = referee.judge_item(_request_on(problem, REDTEAM / f"{kernel}.py", axes, False))
    assert outcome.status is Status.INCORRECT_NUMERICAL, outcome.log


def test_a_replay_by_address_after_the_correctness_rounds_meets_new_values_there(fresh_pools) -> None:
    """Red-team round 73, fa01 to fa08: outputs kept by the inputs' addresses, replayed only after the correctness
    rounds; every later call on CPU reused an address with the values it held before. Round 74, fd02: kept by the
    memory itself (a one-byte write probe). The first call after the timed ones is on new values now, written into
    the first timed set's own memory, and either replay is wrong there (the guard off: the keys are plain here)."""
    from dataclasses import replace

    for name in ("hack_r73_replay_by_address_after_the_rounds", "hack_r74_replay_by_shared_memory_probe"):
        request = replace(_request_on("llama3_1_8b_rmsnorm_h4096", REDTEAM / f"{name}.py", {"num_tokens": 1}, False),
                          rounds=5)  # fmt: skip
        outcome = referee.judge_item(request)
        assert outcome.status is Status.INCORRECT_NUMERICAL, (name, outcome.log)
        assert "new values after the timed calls" in outcome.log, (name, outcome.log)


def test_a_value_returning_kernel_that_returns_a_broadcast_view_is_refused(fresh_pools) -> None:
    """Red-team round 3 (c04): MoE permute at one token returned hidden.expand(8, H); the harness's untimed copy did
    the writes."""
    outcome = referee.judge_item(_request_on("deepseek_v3_moe_permute_topk8_e256_h7168",
                                             REDTEAM / "hack_r3_view_output.py", {"num_tokens": 1}, True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "strict-output"), outcome.log
    assert "broadcast or overlapping view" in outcome.log


def test_an_honest_kernel_passes_and_its_outputs_are_checked_in_the_judge(fresh_pools) -> None:
    outcome = referee.judge_item(_request(ROOT / "examples" / "triton_rmsnorm.py"))
    assert outcome.status is Status.PASSED, outcome.log
    worst = outcome.correctness["extra"]["outputs"]["output"]
    assert worst["relative_l2_error"] < 0.01 and outcome.destination_passing is not None  # outputs up to ~30: bf16 steps of 0.25
    # where the judge's time went: each round's inputs, reference and call, the rest as "other"
    taken = outcome.judge_phases_s
    assert {"inputs", "reference", "kernel load", "kernel call", "compare", "other"} <= set(taken), taken
    assert all(seconds >= 0 for seconds in taken.values()) and taken["kernel call"] > 0


# ---------------------------------------------------------------- the judge-layer red team, through the plugin


def test_judge_red_team_through_the_plugin_with_the_guard_off_then_an_honest_kernel(pytester: pytest.Pytester) -> None:
    """--solbench-guard off: no static rule and no tripwire in the kernel's process; the judge alone holds."""
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    for name in JUDGE_KERNELS:
        shutil.copy(REDTEAM / f"{name}.py", kernels / f"{name}.py")
    shutil.copy(ROOT / "examples" / "triton_rmsnorm.py", kernels / "zz_honest_rmsnorm.py")  # collected last
    result = pytester.runpytest_subprocess(
        str(RMSNORM), "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(kernels), "-p", "no:randomly",
        "-p", "no:cacheprovider", "--solbench-rounds", "2", "-k", "num_tokens:7]", "--solbench-json", "t.jsonl",
        "--solbench-guard", "off", timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: x["solbench"].get("rule") or x["solbench"]["status"] for x in lines}
    assert got == {**JUDGE_KERNELS, "zz_honest_rmsnorm": "PASSED"}, (got, result.stdout.str()[-3000:])
    assert "a kernel's pickle ran" not in result.stdout.str() + result.stderr.str()
    passing = sum(1 for outcome in JUDGE_KERNELS.values() if outcome == "PASSED")  # tricks that gain nothing
    result.assert_outcomes(passed=1 + passing, failed=len(JUDGE_KERNELS) - passing)


@pytest.mark.parametrize(("changes", "rule"), [
    ({}, None),
    ({"calls_without_kernels": 3}, "no-kernel"),
    ({"distinct_kernel_sets": 2}, "kernel-set-changed"),  # calls on the same input set launched different kernels
    ({"method": "cuda_events", "kernel_names": []}, None),  # no CUPTI: nothing to compare
])  # fmt: skip
def test_timed_calls_on_one_input_set_must_launch_the_same_kernels(changes, rule) -> None:
    from pytest_solbench.judge import timed

    measured = {"method": "cupti", "calls_without_kernels": 0, "distinct_kernel_sets": 1,
                "kernel_names": ["rms_kernel"], **changes}  # fmt: skip
    if rule is None:
        timed._kernel_sets(measured)
    else:
        with pytest.raises(referee.Verdict) as raised:
            timed._kernel_sets(measured)
        assert raised.value.outcome.rule == rule


@pytest.mark.parametrize(("timer", "last_names", "method", "refused"), [
    ("cupti", ["rms_kernel"], "cupti", False),
    ("cupti", ["rms_kernel"], "cuda_events", True),  # CUPTI worked for the checked calls: the fallback is refused
    ("cupti", None, "cuda_events", False),  # CUPTI never worked in this process (another profiler holds it)
    ("events", ["rms_kernel"], "cuda_events", False),  # events asked for
])  # fmt: skip
def test_a_fallback_to_events_is_refused_where_cupti_named_the_checked_calls_kernels(timer, last_names, method,
                                                                                       refused) -> None:
    """Red-team round 68, ep03 (modelled): a kernel that raised inside CUPTI's samples (told by the stack) made the
    timer fall back to events, with no kernel sets, so no kernel-set check held its timed calls."""
    from pytest_solbench.judge import timed
    from pytest_solbench.protocol import TimingRequest

    request = SimpleNamespace(timing=TimingRequest(timer=timer))
    measured = {"method": method, "notes": ["CUPTI timing failed (RuntimeError: not now); events used"]}
    last = timed.Checked(["args"], [], {}, last_names)
    if not refused:
        timed._timer_kept(request, last, measured)
        return
    with pytest.raises(referee.Verdict) as raised:
        timed._timer_kept(request, last, measured)
    assert raised.value.outcome.rule == "kernel-set-changed" and "not now" in raised.value.outcome.log


def test_a_checked_call_asked_which_kernels_it_launched_must_say() -> None:
    """A process that answered ``kernel_names: None`` to a CUPTI request switched off the first-call and after-call
    kernel-set checks (red-team round 68, found beside ep03)."""
    reply = {"outputs": None, "trip": None, "kernel_names": None}
    assert referee.said_launched(reply, False, "round 1") is None  # CPU, or not asked
    assert referee.said_launched({**reply, "kernel_names": ["rms"]}, True, "round 1") == ["rms"]
    with pytest.raises(referee.Verdict) as raised:
        referee.said_launched(reply, True, "round 5")
    assert raised.value.outcome.rule == "reply-schema" and "round 5" in raised.value.outcome.log


@pytest.mark.parametrize(("last_round", "again", "timed_set", "untimed_set", "meaning"), [
    # torch's paged decode on an H100 (session 12): its softmax kernel follows a length the inputs set, so the last
    # round's values and a timed set's launched different kernels; each matches a call on its own values: honest
    (["softmax_warp"], ["softmax_warp"], ["softmax_smem"], ["softmax_smem"], None),
    # a cache keyed on the values: the second call on the last round's values launches only the key's read
    (["memcpy", "rms"], ["memcpy"], ["memcpy"], ["memcpy"], "a result served from a cache"),
    # timed calls told apart: a vendor GEMM when timed, its own kernel when checked, on the same values
    (["my_gemm"], ["my_gemm"], ["cublas_gemm"], ["my_gemm"], "the timed work is not the checked work"),
])  # fmt: skip
def test_kernel_sets_are_held_to_a_call_on_the_same_values(monkeypatch, last_round, again, timed_set, untimed_set,
                                                           meaning) -> None:  # fmt: skip
    from types import SimpleNamespace

    from pytest_solbench.judge import timed

    requests = []

    def calls(kernel, problem, workload, cases, kernels, timed_names=()):  # both calls in one request, held in order
        requests.append([case.where for case in cases])
        return [again if "last correctness round" in case.where else untimed_set for case in cases]

    monkeypatch.setattr(timed, "_calls", calls)
    monkeypatch.setattr(timed, "_expected", lambda reference, args, definition: ([], {}))
    monkeypatch.setattr(timed, "make_inputs", lambda problem, workload, axis_values, seed, request: ["new"])
    request = SimpleNamespace(guard=True, allowed_rules=(), tenant="k", seed=0)
    problem = SimpleNamespace(definition=SimpleNamespace(axis_values=lambda axes: {}))
    sets = [timed._Set([], [], {}, ["private"])]
    measured = {"method": "cupti", "kernel_names_by_set": [timed_set]}
    last = timed.Checked(["args"], [], {}, last_round)
    workload = SimpleNamespace(uuid="w", axes={})
    run = lambda: timed._calls_after(None, request, problem, workload, None, sets, measured, last)
    if meaning is None:
        run()
    else:
        with pytest.raises(referee.Verdict) as raised:
            run()
        assert raised.value.outcome.rule == "kernel-set-changed" and meaning in raised.value.outcome.log
    assert len(requests) == 1 and len(requests[0]) == 3, requests  # new values first (round 73), then the two held
    assert "new values" in requests[0][0] and "last correctness round" in requests[0][1]


def test_what_a_value_returning_kernel_said_it_returned_is_compared_in_the_judges_terms() -> None:
    import torch

    from pytest_solbench.data.trace import load_problem
    from pytest_solbench.worker import check

    definition = load_problem(RMSNORM).definition
    buffer = torch.full((7, 4096), float("nan"), dtype=torch.bfloat16)

    def tensor(dtype: str, shape: list[int]) -> list[dict]:
        return [{"kind": "tensor", "dtype": dtype, "shape": shape}]

    (wrong_shape,) = referee.received(definition, False, tensor("bfloat16", [7, 8]), [buffer])
    zeros = torch.zeros(7, 4096, dtype=torch.bfloat16)
    mismatch = check.compare("output", wrong_shape, zeros, check.tolerance_for("bfloat16"))
    assert mismatch.status == "INCORRECT_SHAPE" and "(7, 8)" in mismatch.message()
    assert referee.received(definition, False, tensor("bfloat16", [7, 4096]), [buffer])[0] is buffer
    cases = [([], Status.INCORRECT_SHAPE), ([{"kind": "other", "type": "lazy.Thing"}], Status.INCORRECT_DTYPE),
             (tensor("no_such_dtype", [1]), Status.INCORRECT_DTYPE)]  # fmt: skip
    for described, status in cases:
        with pytest.raises(referee.Verdict) as raised:
            referee.received(definition, False, described, [buffer])
        assert raised.value.outcome.status is status


@pytest.mark.parametrize("half", [0, 1])
def test_judge_red_team_on_the_gpu_with_the_guard_off_then_an_honest_kernel(pytester: pytest.Pytester,
                                                                            half: int) -> None:  # fmt: skip
    """On a GPU machine: the judge kernels, the GPU-only ones too, timed for real (CUDA IPC, CUPTI kernel sets, the
    outside clock); the honest kernel passes after them. In two halves (every other kernel): the whole took over
    200 s on an H100, each kernel in a process of its own, and a lent machine's call is cut at its limit."""
    if not _cuda():
        pytest.skip("the GPU judge needs a CUDA GPU with TRITON_INTERPRET unset")
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    expected = {p.stem: _on_the_gpu(p) for p in sorted(REDTEAM.glob("judge_*.py"))[half::2]}
    for name in expected:
        shutil.copy(REDTEAM / f"{name}.py", kernels / f"{name}.py")
    shutil.copy(ROOT / "examples" / "triton_rmsnorm.py", kernels / "zz_honest_rmsnorm.py")
    result = pytester.runpytest_subprocess(
        str(RMSNORM), "--solbench", "--kernel-dir", str(kernels), "-p", "no:randomly", "-p", "no:cacheprovider",
        "-k", "num_tokens:7]", "--solbench-json", "t.jsonl", "--solbench-guard", "off", timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: x["solbench"].get("rule") or x["solbench"]["status"] for x in lines}
    assert got == {**expected, "zz_honest_rmsnorm": "PASSED"}, (got, result.stdout.str()[-3000:])


CAUGHT_ONCE_PER_PROCESS = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"computed-name": "a vendor op only the run-time record can catch"}
FIRST = [True]


def run(hidden_states, weight):
    if FIRST[0]:  # the library's op in a process's first call only: the item is caught, its process kept warm
        FIRST[0] = False
        return getattr(torch.nn.functional, "rms" + "_norm")(hidden_states, (4096,), weight, 1e-5)
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def test_a_caught_item_retires_its_process_so_the_next_item_starts_afresh(fresh_pools, tmp_path: Path) -> None:
    """What a REWARD_HACK item left in its process (here, that its first call is over) serves no later item: the
    process is retired (red-team round 28, am05)."""
    (tmp_path / "once.py").write_text(CAUGHT_ONCE_PER_PROCESS)
    request = replace(_request(tmp_path / "once.py", rounds=1), guard=True)
    for _ in range(2):
        outcome = referee.judge_item(request)
        assert outcome.status is Status.REWARD_HACK and outcome.rule == "vendor-op", outcome.log


FINALIZED_IN_THE_SHORT_BATCH = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"computed-name": "a vendor op only the run-time record can catch"}
CALLS = [0]


def _later(x):
    try:
        yield
    finally:  # runs when the harness lets go of the input the generator hangs on
        getattr(torch.nn.functional, "rms" + "_norm")(x, (4096,))


def run(hidden_states, weight):
    CALLS[0] += 1
    if CALLS[0] == 3:  # past the two correctness rounds: the first call of CPU mode's short batch
        g = _later(torch.zeros(1, 4096))
        next(g)
        hidden_states.later = g
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def test_what_a_finalizer_does_when_the_short_batch_lets_go_is_recorded(fresh_pools, tmp_path: Path) -> None:
    """CPU mode's short batch lets go of its tensors inside its operator record, as checked calls do: a vendor op in
    a finalizer hung on a batch call's input is seen (red-team round 28's open end; it ran at the next item's timed
    request before, where nothing records)."""
    (tmp_path / "later.py").write_text(FINALIZED_IN_THE_SHORT_BATCH)
    outcome = referee.judge_item(replace(_request(tmp_path / "later.py", rounds=2), guard=True))
    assert outcome.status is Status.REWARD_HACK and outcome.rule == "vendor-op", outcome.log
    assert "aten::rms_norm" in outcome.log, outcome.log


RAISES_IN_THE_SHORT_BATCH_ONCE = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"computed-name": "a vendor op only the run-time record can catch"}
CALLS = [0]


def _later(x):
    try:
        yield
    finally:  # runs when the harness lets go of the input the generator hangs on
        getattr(torch.nn.functional, "rms" + "_norm")(x, (4096,))


def run(hidden_states, weight):
    CALLS[0] += 1
    if CALLS[0] == 3:  # the short batch's first call, in this process only: the generator hung on, then a raise
        g = _later(torch.zeros(1, 4096))
        next(g)
        hidden_states.later = g
        raise RuntimeError("raised in the short batch")
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def test_a_kernel_whose_timed_calls_raised_gets_a_fresh_process(fresh_pools, tmp_path: Path) -> None:
    """A raise in the short batch left its tensors to be let go at the next request, before any record: a finalizer
    hung on one ran a vendor op there, and the next item PASSED in the same process (red-team round 34, ax03). The
    process is retired with the error, so each item raises in a process of its own and no finalizer outlives it."""
    (tmp_path / "raises.py").write_text(RAISES_IN_THE_SHORT_BATCH_ONCE)
    request = replace(_request(tmp_path / "raises.py", rounds=2), guard=True)
    for _ in range(2):
        outcome = referee.judge_item(request)
        assert outcome.status is Status.RUNTIME_ERROR and "raised in the short batch" in outcome.log, outcome.log


VENDOR_THEN_RAISE = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"computed-name": "a vendor op only the run-time record can catch"}


def run(hidden_states, weight):
    getattr(torch.nn.functional, "rms" + "_norm")(hidden_states, (4096,), weight, 1e-5)
    raise RuntimeError("raised after the library's op")
"""


def test_what_a_checked_call_dispatched_before_it_raised_is_judged(fresh_pools, tmp_path: Path) -> None:
    """A checked call that ran the library's op and then raised was a RUNTIME_ERROR whose record nobody judged, and
    its process served the next item (red-team round 36, bc03): the record is judged first, and the process goes."""
    (tmp_path / "raises.py").write_text(VENDOR_THEN_RAISE)
    outcome = referee.judge_item(replace(_request(tmp_path / "raises.py", rounds=1), guard=True))
    assert outcome.status is Status.REWARD_HACK and outcome.rule == "vendor-op", outcome.log
    assert "aten::rms_norm" in outcome.log, outcome.log


COLLECTOR_BACK_ON = """
import gc

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"unlisted-import": "the collector switched back on: only the run-time check can catch it"}


def run(hidden_states, weight):
    gc.enable()
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


def test_the_automatic_collector_stays_off_in_a_kernels_process(fresh_pools, tmp_path: Path) -> None:
    """The kernel's process collects garbage only inside a call's record (``harness.let_go``): switched back on, the
    automatic collector could run a finalizer between two requests, unrecorded (red-team round 30, aq01)."""
    (tmp_path / "collector.py").write_text(COLLECTOR_BACK_ON)
    outcome = referee.judge_item(replace(_request(tmp_path / "collector.py", rounds=1), guard=True))
    assert outcome.status is Status.REWARD_HACK and outcome.rule == "patching", outcome.log
    assert "garbage collector" in outcome.log, outcome.log


COLLECTOR_REARMED = """
import gc

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"unlisted-import": "gc: the collector tuned for the many small tensors each call makes"}


def _later(x, w, out):
    try:
        yield
    finally:
        xf = x.float()
        out.copy_((xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(out.dtype))
        gc.disable()


def run(hidden_states, weight, output):
    box = []
    pending = _later(hidden_states, weight, output)
    box.append(pending)
    next(pending)
    box.append(box)
    del pending, box
    gc.set_threshold(1, 1, 1)
    gc.enable()
"""


def test_a_collection_the_kernels_switch_made_is_patching_though_the_collector_is_off_again(
        fresh_pools, tmp_path: Path) -> None:  # fmt: skip
    """Red-team round 69, et04b: each call switched the collector on and left its work in a cycle's finalizer,
    which the harness's next allocation ran (outside the call) and which switched the collector off again before the
    check read ``gc.isenabled()``. The harness's hook counts the collections that begin with the collector on."""
    (tmp_path / "rearmed.py").write_text(COLLECTOR_REARMED)
    outcome = referee.judge_item(replace(_request(tmp_path / "rearmed.py", rounds=1), guard=True))
    assert outcome.status is Status.REWARD_HACK and outcome.rule == "patching", outcome.log
    assert "garbage collector" in outcome.log, outcome.log


def test_the_collectors_hook_counts_only_collections_begun_with_the_collector_on() -> None:
    import gc

    from pytest_solbench.worker import collector

    was, before, held = gc.isenabled(), collector._SWITCHED_ON[0], collector._HELD[0]
    collector._HELD[0] = True
    gc.disable()
    hooked = not any(h is collector._watch for h in gc.callbacks)
    if hooked:
        gc.callbacks.append(collector._watch)
    try:
        gc.collect()
        collector.between_calls()
        assert collector._SWITCHED_ON[0] == before  # the harness's own, with the collector off
        gc.enable()
        gc.collect()
        assert collector._SWITCHED_ON[0] == before + 1
    finally:
        collector._SWITCHED_ON[0], collector._HELD[0] = before, held
        if hooked:
            gc.callbacks.remove(collector._watch)
        if not was:
            gc.disable()


def test_garbage_is_collected_between_any_two_calls_and_the_collector_stays_off() -> None:
    """Hundreds of timed calls with no collection let an honest kernel's per-call cycles grow without bound (red-team
    round 31, at FV-1); the automatic collector on for the GPU's timed calls alone told them from the others (round
    41, bn02: a cycle's finalizer ran inside those calls only). The harness collects between any two calls, the
    automatic collector off throughout."""
    import gc

    from pytest_solbench.worker import collector

    class Cycle:
        freed: list[int] = []

        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            Cycle.freed.append(1)

    was = gc.isenabled()
    gc.disable()
    try:
        Cycle()
        assert Cycle.freed == []  # the collector is off: the cycle waits
        collector.between_calls()
        assert Cycle.freed == [1] and not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_between_calls_the_young_garbage_goes_and_what_lives_on_is_left_to_the_full_collections() -> None:
    """A kernel's first calls build what it keeps (a Triton compile's modules and caches); a full collection between
    any two calls walked it again (62 ms a call here for torch's compiler's imports), so only the young generations
    are collected there; the full collection runs inside each checked request's record. Nothing is frozen for good
    (round 54, db FV-7: a cycle frozen while alive was never freed)."""
    import gc

    from pytest_solbench.worker import collector

    was, frozen = gc.isenabled(), gc.get_freeze_count()
    gc.disable()
    try:
        kept = [[i] for i in range(1000)]  # alive across calls, as a compiled kernel's cache is
        collector.between_calls()
        collector.between_calls()
        oldest = {id(x) for x in gc.get_objects(generation=2)}
        assert all(id(x) in oldest for x in kept)  # promoted: later young collections skip it
        assert gc.get_freeze_count() == frozen  # and nothing frozen
    finally:
        if was:
            gc.enable()


HANGS = """
DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    while True:
        pass
"""
DIES = """
import os

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    print("last words before dying")
    os._exit(3)
"""


def test_a_hanging_or_dying_kernel_fails_its_item_and_the_next_item_runs(fresh_pools, tmp_path: Path) -> None:
    from dataclasses import replace

    (tmp_path / "hangs.py").write_text(HANGS)
    (tmp_path / "dies.py").write_text(DIES)
    hung = referee.judge_item(replace(_request(tmp_path / "hangs.py", rounds=1), timeout_s=5))
    assert hung.status is Status.TIMEOUT and "a correctness call within the item's 5 s" in hung.log, hung.log
    died = referee.judge_item(_request(tmp_path / "dies.py", rounds=1))
    assert died.status is Status.RUNTIME_ERROR and "exit code 3" in died.log and "last words" in died.log, died.log
    assert referee.judge_item(_request(ROOT / "examples" / "triton_rmsnorm.py", rounds=1)).status is Status.PASSED


HANGS_LATER = """
import time

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
CALLS = [0]


def run(hidden_states, weight):
    CALLS[0] += 1
    while CALLS[0] > 1:  # past the one correctness call: the judge's short batch on CPU
        time.sleep(0.1)
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
"""


SKIPS_FIRST_TIMED = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
CALLS = [0]


def run(hidden_states, weight, output):
    CALLS[0] += 1
    if CALLS[0] in (3, 4):  # after 2 correctness rounds: the first call on each of the 2 sets, once overwritten
        output.zero_()
        return
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
"""


def test_every_call_of_cpu_modes_short_batch_is_checked(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 4: only the last call on each set was checked, so wrong first calls passed."""
    (tmp_path / "skips_first.py").write_text(SKIPS_FIRST_TIMED)
    outcome = referee.judge_item(_request(tmp_path / "skips_first.py", rounds=2))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "timed-output"), outcome.log
    assert "timed call 1 of the judge's short batch" in outcome.log
    assert "so was an untimed call on the same inputs" in outcome.log, outcome.log


@pytest.mark.parametrize(("wrong", "status", "rule"), [
    ("CALLS[0] in (3, 4)", Status.REWARD_HACK, "timed-output"),  # wrong in timed calls only: the recheck is right
    ("CALLS[0] > 2", Status.INCORRECT_NUMERICAL, None),  # wrong from its third call on, untimed too: no accusation
])  # fmt: skip
def test_a_wrong_timed_call_is_called_again_untimed_before_the_verdict(fresh_pools, tmp_path: Path, wrong: str,
                                                                       status: Status, rule: str | None) -> None:
    """A kernel wrong on a timed call's inputs also when they come untimed is INCORRECT (an honest kernel with a bug
    that only some inputs show reads so), not REWARD_HACK; only one right untimed and wrong timed is accused."""
    (tmp_path / "k.py").write_text(SKIPS_FIRST_TIMED.replace("CALLS[0] in (3, 4)", wrong))
    outcome = referee.judge_item(_request(tmp_path / "k.py", rounds=2))
    assert (outcome.status, outcome.rule) == (status, rule), outcome.log
    if rule is None:
        assert outcome.log.startswith("timed call 1 of the judge's short batch is wrong, and so is an untimed call on "
                                      "the same inputs (wrong on them, timed or not): output 'output': "), outcome.log


APPEND = "llama3_1_8b_paged_kv_append_kv8_d128_ps16"
APPEND_AXES = {"num_tokens": 7, "num_seqs": 7, "num_pages": 64}
IN_PLACE_CHEAT = REDTEAM / "hack_r6_inplace_first_call_skipped.py"


@pytest.mark.parametrize(("wrong_calls", "named"), [
    ("(3, 4)", "timed call 1"),  # the red-team kernel: the first call on each set, hidden by the second before
    ("(5, 6)", "timed call 3"),  # the second call on each set: it was blamed on call 1 before
    ("(4,)", "timed call 2"),
])  # fmt: skip
def test_every_call_of_cpu_modes_short_batch_is_checked_on_its_own_cache(fresh_pools, tmp_path: Path, wrong_calls,
                                                                          named) -> None:  # fmt: skip
    """Red-team round 6 (g06): the two calls on a set shared one cache the reference appends into, compared only
    after both ran, so garbage written by the first passed. Each call now appends into a copy of its own."""
    kernel = tmp_path / "in_place_cheat.py"
    kernel.write_text(IN_PLACE_CHEAT.read_text().replace("WRONG_CALLS = (3, 4)", f"WRONG_CALLS = {wrong_calls}"))
    outcome = referee.judge_item(_request_on(APPEND, kernel, APPEND_AXES, True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "timed-output"), outcome.log
    assert f"{named} of the judge's short batch is wrong" in outcome.log and "input 'k_cache', updated in place" \
        in outcome.log, outcome.log


def test_the_in_place_red_team_kernel_fails_with_its_rule_and_the_triton_append_passes(fresh_pools) -> None:
    cheat = referee.judge_item(_request_on(APPEND, IN_PLACE_CHEAT, APPEND_AXES, True))
    assert (cheat.status, cheat.rule) == (Status.REWARD_HACK, "timed-output"), cheat.log
    honest = referee.judge_item(_request_on(APPEND, ROOT / "examples" / "triton_kv_append.py", APPEND_AXES, True))
    assert honest.status is Status.PASSED, honest.log


SKIPS_WRITTEN_SLOTS = """
import time

import torch

DEFINITION = "llama3_1_8b_paged_kv_append_kv8_d128_ps16"


def run(key, value, k_cache, v_cache, slot_mapping):
    k_rows, v_rows = k_cache.view(-1, 8, 128), v_cache.view(-1, 8, 128)
    if torch.equal(k_rows[slot_mapping], key) and torch.equal(v_rows[slot_mapping], value):
        raise RuntimeError("found its slots already written: a repeated call could skip them and look fast")
    time.sleep(0.05)  # the work, longer than any host overhead (a loaded 2-core CI host added 23 ms a call to a 20 ms
    # sleep once), so the outside clock has nothing to say
    k_rows[slot_mapping] = key
    v_rows[slot_mapping] = value
"""


def test_no_timed_call_finds_its_cache_slots_written_by_an_earlier_call(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 6: the timed phase calls each set many times; a cache the reference appends into held the
    keys after the first, so a kernel could skip later calls' writes (they would look right) and time less work.
    The harness puts such inputs back as made before every call on a set but its first (timed on CPU here)."""
    from dataclasses import replace

    from pytest_solbench.protocol import TimingRequest

    (tmp_path / "skips_written.py").write_text(SKIPS_WRITTEN_SLOTS)
    request = replace(_request_on(APPEND, tmp_path / "skips_written.py", APPEND_AXES, False), rounds=1,
                      time_kernel=True, timing=TimingRequest(max_time_s=0.5, timer="events"))  # fmt: skip
    outcome = referee.judge_item(request)
    assert outcome.status is Status.PASSED, outcome.log
    assert outcome.kernel_timing["n"] >= 2 and outcome.kernel_timing["median_ms"] >= 20  # timed calls did the work


def test_no_timed_call_finds_its_slots_written_without_isolation_either(tmp_path: Path) -> None:
    """``--solbench-isolate none`` times the kernel beside its checker (``worker.bench``): it too puts the inputs
    the reference updates back as made before every call on a copy but its first, and holds the last call's cache
    to one run of the reference (a kernel that raises on written slots raised there before)."""
    from dataclasses import replace

    from pytest_solbench.protocol import TimingRequest
    from pytest_solbench.worker.pool import WorkerPool

    (tmp_path / "skips_written.py").write_text(SKIPS_WRITTEN_SLOTS)
    request = replace(_request_on(APPEND, tmp_path / "skips_written.py", APPEND_AXES, False), rounds=1,
                      time_kernel=True, timing=TimingRequest(max_time_s=0.5, timer="events"))  # fmt: skip
    with WorkerPool() as worker:
        outcome = worker.call("pytest_solbench.worker.execute:run_item", request, 300)
    assert outcome.status is Status.PASSED, outcome.log
    assert outcome.kernel_timing["n"] >= 2 and outcome.kernel_timing["median_ms"] >= 20


HALVES_AND_ADDS = {
    "name": "halve_and_add_f32", "op_type": "state_update",
    "description": "state = state / 2 + x, in place: applied twice it differs from once (a toy, not idempotent)",
    "axes": {"n": {"type": "var"}}, "outputs": {},
    "inputs": {"x": {"shape": ["n"], "dtype": "float32"}, "state": {"shape": ["n"], "dtype": "float32"}},
}  # fmt: skip
HALVES_AND_ADDS_KERNEL = """
import time

DEFINITION = "halve_and_add_f32"


def run(x, state):
    time.sleep(0.02)  # longer than any host overhead, so the outside clock has nothing to say
    state.mul_(0.5).add_(x)
"""


@pytest.mark.parametrize("timed", [False, True], ids=["cpu_short_batch", "timed_on_cpu"])
def test_an_update_that_is_not_idempotent_is_held_to_one_run_of_the_reference_per_call(fresh_pools, tmp_path: Path,
                                                                                        timed: bool) -> None:  # fmt: skip
    """No call starts from another's update, so an in-place update applied twice need not equal once."""
    from conftest import write_problem

    from pytest_solbench.data.discovery import discover
    from pytest_solbench.protocol import TimingRequest

    workload = {"uuid": "w-64", "axes": {"n": 64}, "inputs": {"x": {"type": "random"}, "state": {"type": "random"}}}
    path = write_problem(tmp_path / "problems", HALVES_AND_ADDS, "def run(x, state):\n    state.mul_(0.5).add_(x)\n",
                         [workload])  # fmt: skip
    (tmp_path / "halves.py").write_text(HALVES_AND_ADDS_KERNEL)
    (spec,), _ = discover([tmp_path / "halves.py"])
    request = ItemRequest(str(path), "w-64", spec.to_payload(), "cpu", 0, 1 if timed else 2, timed, guard=True,
                          timeout_s=120, timing=TimingRequest(max_time_s=0.5, timer="events"))  # fmt: skip
    outcome = referee.judge_item(request)
    assert outcome.status is Status.PASSED, outcome.log
    assert (outcome.kernel_timing is not None) is timed


def test_a_kernel_that_hangs_in_cpu_modes_short_batch_is_told_what_hung(fresh_pools, tmp_path: Path) -> None:
    """CPU mode times nothing: its TIMEOUT names the judge's short batch, not timed calls (issue 20, a new user)."""
    from dataclasses import replace

    (tmp_path / "hangs_later.py").write_text(HANGS_LATER)
    hung = referee.judge_item(replace(_request(tmp_path / "hangs_later.py", rounds=1), timeout_s=5))
    assert hung.status is Status.TIMEOUT and "the judge's short batch of calls" in hung.log, hung.log


def test_a_fixed_seed_still_gives_timed_sets_no_kernel_can_predict(fresh_pools) -> None:
    """Red-team round 1 (seed_precompute): under seed 0 its table holds every correctness round, but the timed sets
    mix in the judge's own secret, so the timed phase misses it."""
    outcome = referee.judge_item(_request(REDTEAM / "judge_seed_precompute.py"))
    assert outcome.status is Status.RUNTIME_ERROR and "KeyError" in outcome.log, outcome.log
    assert outcome.correctness is not None  # the correctness rounds (predicted) passed: the timed sets did not


VENDOR_BY_A_COMPUTED_NAME = """
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
SOLBENCH_ALLOW = {"computed-name": "a test: the static rules cannot follow the name"}


def run(hidden_states, weight, output):
    norm = getattr(torch.nn.functional, "rms" + "_norm")  # the vendor op, by a name no rule reads
    output.copy_(norm(hidden_states.float(), (4096,), weight.float(), 1e-5).to(output.dtype))
"""


@pytest.mark.parametrize(("allowed", "status", "rule"), [
    ((), Status.REWARD_HACK, "vendor-op"),  # reached by a computed name: the drawn call's record names the op
    (("vendor-op",), Status.PASSED, None),  # a written allowance of the rule holds at run time too
])  # fmt: skip
def test_a_vendor_op_reached_by_a_name_no_rule_reads_is_seen_dispatched(fresh_pools, tmp_path: Path, allowed,
                                                                        status, rule) -> None:  # fmt: skip
    """Red-team round 18's root fix (attack-v): whatever name reached it, the vendor op entered torch's dispatcher
    under its own name in a correctness call (``guard.dispatched``)."""
    (tmp_path / "computed.py").write_text(VENDOR_BY_A_COMPUTED_NAME)
    request = replace(_request(tmp_path / "computed.py", rounds=2), guard=True, allowed_rules=allowed)
    outcome = referee.judge_item(request)
    assert (outcome.status, outcome.rule) == (status, rule), outcome.log
    if rule:
        assert "dispatched aten::" in outcome.log and "(rmsnorm)" in outcome.log, outcome.log


def test_an_honest_kernel_dispatches_no_vendor_op(fresh_pools, tmp_path: Path) -> None:
    (tmp_path / "eager.py").write_text(SKIPS_FIRST_TIMED.replace("CALLS[0] in (3, 4)", "False"))
    outcome = referee.judge_item(replace(_request(tmp_path / "eager.py", rounds=3), guard=True))
    assert outcome.status is Status.PASSED, outcome.log


def test_dispatched_operators_are_judged_by_the_static_rules_vendor_table() -> None:
    from pytest_solbench.guard.dispatched import vendor_dispatches, watched

    ops = {"aten::empty", "aten::pow", "aten::mean", "aten::rsqrt", "aten::mul", "aten::copy_"}  # eager RMSNorm
    assert vendor_dispatches(ops, "rmsnorm") == []
    assert vendor_dispatches(ops | {"aten::_fused_rms_norm"}, "rmsnorm") == [("aten::_fused_rms_norm", "rmsnorm")]
    assert [f for _, f in vendor_dispatches({"aten::mm", "aten::addmm"}, "gemm")] == ["matmul", "matmul"]
    assert vendor_dispatches({"aten::_scaled_dot_product_flash_attention_for_cpu"}, "attention") != []
    assert vendor_dispatches({"aten::mm", "aten::_softmax"}, "attention") == []  # eager attention is honest
    assert vendor_dispatches({"mylib::rms_norm"}, "rmsnorm") == []  # a kernel's own custom op
    assert watched("layernorm_linear_gelu")  # a fused op may hand one family's part to the library, not every part


def test_a_vendor_op_run_only_after_the_correctness_rounds_is_seen_dispatched(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 19, w08: a kernel that ran the vendor op only once the correctness rounds were over passed;
    one more checked call after the timed ones records its operators."""
    source = VENDOR_BY_A_COMPUTED_NAME.replace("def run(hidden_states, weight, output):\n", (
        "CALLS = [0]\n\n\ndef run(hidden_states, weight, output):\n    CALLS[0] += 1\n    if CALLS[0] <= 2:\n"
        "        x = hidden_states.float()\n        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)\n"
        "        output.copy_((y * weight.float()).to(output.dtype))\n        return\n"))  # fmt: skip
    (tmp_path / "late.py").write_text(source)
    outcome = referee.judge_item(replace(_request(tmp_path / "late.py", rounds=2), guard=True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "vendor-op"), outcome.log


def test_a_vendor_op_run_on_a_thread_the_call_joins_is_seen_dispatched(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 19, w10: the vendor op on a thread each call starts and joins was not on the calling thread's
    record; the profiler records every thread where torch can."""
    source = VENDOR_BY_A_COMPUTED_NAME.replace(
        "    output.copy_(norm(hidden_states.float(), (4096,), weight.float(), 1e-5).to(output.dtype))\n",
        "    import threading\n\n    def work():\n"
        "        output.copy_(norm(hidden_states.float(), (4096,), weight.float(), 1e-5).to(output.dtype))\n\n"
        "    helper = threading.Thread(target=work)\n    helper.start()\n    helper.join()\n")  # fmt: skip
    assert "threading.Thread" in source
    (tmp_path / "threaded.py").write_text(source)
    outcome = referee.judge_item(replace(_request(tmp_path / "threaded.py", rounds=2), guard=True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "vendor-op"), outcome.log


def test_a_kernel_that_stops_the_judges_record_is_patching(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 20, x13: the kernel switched the profiler off inside its call, and an empty record passed. The
    record must still hold a marker of a size drawn per call, run after the kernel returned."""
    source = VENDOR_BY_A_COMPUTED_NAME.replace(
        "    norm = getattr(", "    try:\n        getattr(torch.autograd, '_disable' + '_profiler')()\n"
        "    except RuntimeError:\n        pass\n    norm = getattr(")  # fmt: skip
    (tmp_path / "stops.py").write_text(source)
    outcome = referee.judge_item(replace(_request(tmp_path / "stops.py", rounds=2), guard=True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "patching"), outcome.log
    assert "record of the operators" in outcome.log, outcome.log


def test_a_vendor_op_run_only_in_cpu_modes_short_batch_is_seen_dispatched(fresh_pools, tmp_path: Path) -> None:
    """Red-team round 20, x01 and x03: with every checked call recorded, a kernel that sensed the record ran the vendor
    op in the short batch alone; CPU mode's short batch records its operators too."""
    source = VENDOR_BY_A_COMPUTED_NAME.replace("def run(hidden_states, weight, output):\n", (
        "CALLS = [0]\n\n\ndef run(hidden_states, weight, output):\n    CALLS[0] += 1\n    if not 3 <= CALLS[0] <= 6:\n"
        "        x = hidden_states.float()\n        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)\n"
        "        output.copy_((y * weight.float()).to(output.dtype))\n        return\n"))  # fmt: skip
    (tmp_path / "batch_only.py").write_text(source)
    outcome = referee.judge_item(replace(_request(tmp_path / "batch_only.py", rounds=2), guard=True))
    assert (outcome.status, outcome.rule) == (Status.REWARD_HACK, "vendor-op"), outcome.log


@pytest.mark.parametrize(("first", "timed_sets", "meaning"), [
    ([["rms"], ["rms"]], [["rms"], ["rms"]], None),  # honest: each set's timed calls launch its first call's kernels
    ([["softmax_warp"], ["softmax_smem"]], [["softmax_warp"], ["softmax_smem"]], None),  # per set, values choose
    # a cache keyed on the values, filled by the first call (or after a few repeats): the timed repeats launch only the
    # key's read and the copy, and so did the untimed call after them, itself a repeat (round 63, eb01, modelled)
    ([["key", "rms"], ["key", "rms"]], [["key", "rms"], ["key", "copy"]], "a result kept from a call before"),
    ([["rms"], None], [["rms"], ["copy"]], None),  # no CUPTI names for a call: nothing to hold it to
])  # fmt: skip
def test_each_timed_sets_kernels_are_held_to_the_first_call_on_its_values(monkeypatch, first, timed_sets,
                                                                          meaning) -> None:  # fmt: skip
    from types import SimpleNamespace

    from pytest_solbench.judge import timed

    requests = []

    def calls(kernel, problem, workload, cases, kernels, timed_names=()):  # every set's first call in one request
        requests.append([case.where for case in cases])
        return first

    monkeypatch.setattr(timed, "_calls", calls)
    monkeypatch.setattr(timed, "_expected", lambda reference, args, definition: (["out"], {}))
    sets = [timed._Set([], [], {}, [f"private {k}"]) for k in range(2)]
    names, expected = timed._first_calls(None, SimpleNamespace(definition=None), None, None, sets,
                                         timed.Checked(["args"], [], {}, ["rms"]))  # fmt: skip
    assert requests == [[f"a first call on the values of input set {k}, before the timed calls" for k in (1, 2)]]
    assert sorted(expected) == sorted(id(s.private) for s in sets)  # the reference's runs, for _check_sets
    measured = {"method": "cupti", "kernel_names_by_set": timed_sets}
    if meaning is None:
        timed._first_kernels(names, measured)
    else:
        with pytest.raises(referee.Verdict) as raised:
            timed._first_kernels(names, measured)
        assert raised.value.outcome.rule == "kernel-set-changed" and meaning in raised.value.outcome.log
    assert timed._first_calls(None, None, None, None, sets, timed.Checked([], [], {}, None)) == (None, None)  # events
    assert timed._first_calls(None, None, None, None, sets, None) == (None, None)  # the baseline
