"""Saved runs: the machine key, atomic saves, loading by name or path, and refusals in the user's words."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.store import (
    StoreError,
    default_name,
    default_store,
    git_commit,
    latest_run,
    load_run,
    machine_info,
    machine_key,
    read_run,
    save_run,
)

ENV = {"hardware": "NVIDIA H100 80GB HBM3", "driver": "580.159.04", "libs": {"torch": "2.11.0", "triton": "3.6.0",
                                                                              "cuda": "13.0"}}  # fmt: skip
MACHINE = machine_info(ENV, "h100_sxm", "observe")


def _record(uuid: str = "u", samples: tuple[float, ...] = (1.0, 1.1, 0.9)) -> ItemResult:
    return ItemResult(nodeid=f"n[{uuid}]", problem="p", kernel="k", workload_uuid=uuid, workload_label="m=1",
                      status="PASSED", device="cuda", hardware="h100_sxm", t_k_ms=1.0, environment=ENV,
                      kernel_timing={"samples_ms": list(samples), "median_ms": 1.0, "method": "cupti"},
                      correctness={"max_relative_error": float("inf")})  # fmt: skip


def test_machine_key_is_a_short_stable_slug_that_changes_with_driver_clocks_and_libraries() -> None:
    key = machine_key(ENV, "h100_sxm", "observe")
    assert key == machine_key(dict(ENV), "h100_sxm", "observe")
    assert key.startswith("nvidia-h100-80gb-hbm3-observe-") and len(key) < 64
    others = {
        machine_key({**ENV, "driver": "575.51"}, "h100_sxm", "observe"),
        machine_key(ENV, "h100_sxm", "locked 1410/1593 MHz"),
        machine_key({**ENV, "libs": {**ENV["libs"], "torch": "2.12.0"}}, "h100_sxm", "observe"),
    }
    assert key not in others and len(others) == 3


def test_a_saved_run_reads_back_with_its_records_samples_and_commit(tmp_path: Path) -> None:
    path = save_run(tmp_path, "main", [_record("a"), _record("b", (2.0, 2.1))], MACHINE, "abc1234def")
    assert path == tmp_path / machine_key(ENV, "h100_sxm", "observe") / "main.json"
    assert [p.name for p in path.parent.iterdir()] == ["main.json"]  # the temporary file was renamed away
    run = load_run(tmp_path, "main", MACHINE)
    assert run.commit == "abc1234def" and run.machine == MACHINE and "'main' (commit abc1234" in run.label
    assert [r.workload_uuid for r in run.records] == ["a", "b"]
    assert run.records[1].kernel_timing["samples_ms"] == [2.0, 2.1]
    assert run.records[0].correctness == {"max_relative_error": "inf"}  # strict JSON, as in the traces
    assert load_run(tmp_path, str(path), MACHINE).records == run.records  # by path
    save_run(tmp_path, "main", [_record("c")], MACHINE, None)  # saving again replaces it
    assert [r.workload_uuid for r in read_run(path).records] == ["c"]


def test_the_default_store_keeps_itself_out_of_git_as_pytests_cache_does(tmp_path: Path) -> None:
    """A user's ``git add -A`` committed saved runs (issue 20, tried as a new user): the ``.solbench`` folder a store
    lies in gets a ``.gitignore`` of ``*``; a store elsewhere is left as the user made it."""
    save_run(tmp_path / ".solbench" / "runs", "main", [_record("a")], MACHINE, None)
    assert (tmp_path / ".solbench" / ".gitignore").read_text().splitlines()[-1] == "*"
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    listed = subprocess.run(["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert ".solbench" not in listed
    save_run(tmp_path / "kept", "main", [_record("a")], MACHINE, None)
    assert not (tmp_path / "kept" / ".gitignore").exists()


def test_a_missing_run_says_how_to_save_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"main.json: no saved run named 'main' \(save one with --solbench-save main; "
                       r"a run saved from another checkout is in that checkout's store: --solbench-store DIR\)"):
        load_run(tmp_path, "main", MACHINE)
    with pytest.raises(StoreError, match="no such saved run"):
        load_run(tmp_path, str(tmp_path / "gone.json"), MACHINE)
    with pytest.raises(StoreError, match="use letters, digits"):
        save_run(tmp_path, "../escape", [], MACHINE, None)


def test_a_corrupt_or_foreign_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StoreError, match=r"bad.json: not a saved run \(corrupt JSON"):
        load_run(tmp_path, str(bad), MACHINE)
    bad.write_text(json.dumps({"benchmarks": []}))
    with pytest.raises(StoreError, match="bad.json: not a saved run of pytest-solbench"):
        load_run(tmp_path, str(bad), MACHINE)
    bad.write_text(json.dumps({"format": "pytest-solbench-run/1", "machine": {}, "records": [{"problem": "p"}]}))
    with pytest.raises(StoreError, match="bad.json: a saved run with a damaged field"):
        load_run(tmp_path, str(bad), MACHINE)


def test_another_machine_or_clock_state_is_refused_unless_forced(tmp_path: Path) -> None:
    locked = machine_info({**ENV, "driver": "575.51"}, "h100_sxm", "locked 1410/1593 MHz")
    path = save_run(tmp_path, "main", [_record()], locked, None)
    with pytest.raises(StoreError, match=r"no run 'main' saved on this machine.*--solbench-compare-force") as info:
        load_run(tmp_path, "main", MACHINE)
    assert str(path) in str(info.value)
    with pytest.raises(StoreError) as info:
        load_run(tmp_path, str(path), MACHINE)
    message = str(info.value)
    assert "driver 575.51 -> 580.159.04" in message and "clocks locked 1410/1593 MHz -> observe" in message
    assert "--solbench-compare-force" in message
    assert load_run(tmp_path, "main", MACHINE, force=True).path == path
    assert load_run(tmp_path, str(path), MACHINE, force=True).machine == locked


def _repository(folder: Path) -> None:
    """A git repository in ``folder`` with one commit of a file ``f``."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    (folder / "f").write_text("1")
    subprocess.run(["git", "add", "f"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=folder, check=True)


def test_git_commit_inside_and_outside_a_repository(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None
    _repository(tmp_path)
    sha = git_commit(tmp_path)
    assert sha is not None and len(sha) == 40
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path) == f"{sha}+dirty"


def test_git_commit_runs_no_command_a_checkout_names(tmp_path: Path) -> None:
    """Red-team round 12, n01: a submission's checkout with ``core.fsmonitor`` in its config ran that command as root
    when the session asked git whether files changed; a clean filter would too. Neither runs now; with a filter
    configured, whether files changed is not asked."""
    _repository(tmp_path)
    sha = git_commit(tmp_path)
    marker = tmp_path.parent / f"{tmp_path.name}-ran"
    hook = tmp_path.parent / f"{tmp_path.name}-hook.sh"
    hook.write_text(f"#!/bin/sh\necho $0 >> {marker}\ncat\n")
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("2")
    assert git_commit(tmp_path) == f"{sha}+dirty" and not marker.exists()
    (tmp_path / ".gitattributes").write_text("* filter=evil\n")
    subprocess.run(["git", "config", "filter.evil.clean", str(hook)], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("3")
    assert git_commit(tmp_path) == sha and not marker.exists()


def test_a_run_that_is_not_whole_is_saved_apart_and_says_so(tmp_path: Path) -> None:
    """Issue 20 (a new user): a run interrupted after 2 of 4 items was saved as 'main' like a whole one, so the next
    pull request would be compared with half a baseline. It is saved as 'main-partial', says why, and a bare
    --solbench-compare never picks it."""
    whole = save_run(tmp_path, "main", [_record("a"), _record("b")], MACHINE, "abc1234")
    os.utime(whole, (1, 1))
    part = save_run(tmp_path, "main", [_record("a")], MACHINE, "def5678", ["interrupted after 1 of 2 items"])
    assert part.name == "main-partial.json" and len(read_run(whole).records) == 2  # the baseline is left as it was
    run = load_run(tmp_path, "main-partial", MACHINE)
    assert run.unfinished == ("interrupted after 1 of 2 items",) and "partial: interrupted after 1 of 2" in run.label
    assert load_run(tmp_path, "main", MACHINE).unfinished == () and latest_run(tmp_path, MACHINE) == whole


def test_latest_run_and_default_names(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no saved run for this machine yet"):
        latest_run(tmp_path, MACHINE)
    first = save_run(tmp_path, "a", [_record()], MACHINE, None)
    second = save_run(tmp_path, "b", [_record()], MACHINE, None)
    os.utime(first, (1, 1))
    assert latest_run(tmp_path, MACHINE) == second
    assert default_name("0123456789abcdef+dirty") == "0123456789ab-dirty"
    assert default_name(None).startswith("run-")


def test_the_default_store_is_at_the_git_top_level_else_beside_the_ini_file(tmp_path: Path) -> None:
    """Not pytest's rootdir, which moves with the arguments: main's save and a PR's compare must meet."""
    outside = tmp_path / "plain" / "sub"
    outside.mkdir(parents=True)
    assert default_store(outside, None) == outside / ".solbench" / "runs"
    assert default_store(outside, tmp_path / "plain" / "pytest.ini") == tmp_path / "plain" / ".solbench" / "runs"
    repo = tmp_path / "repo"
    (repo / "kernels" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for start in (repo, repo / "kernels" / "deep"):
        assert default_store(start, None).resolve() == (repo / ".solbench" / "runs").resolve()
