"""solbench-compare: saved runs compared without rerunning, listed, refused in the user's words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_solbench.record import ItemResult
from pytest_solbench.reports.saved import main
from pytest_solbench.reports.store import machine_info, save_run

ENV = {"hardware": "NVIDIA H100 80GB HBM3", "driver": "580.159.04", "libs": {"torch": "2.11.0"}}
MACHINE = machine_info(ENV, "h100_sxm", "observe")
STEADY = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0, 1.0, 1.0]


def _run(root: Path, name: str, scale: float, machine: dict = MACHINE) -> Path:
    records = [ItemResult(nodeid=f"n[{u}]", problem="p", kernel="k", workload_uuid=u, workload_label=f"m:{u}",
                          status="PASSED", device="cuda", hardware="h100_sxm", t_k_ms=scale, environment=ENV,
                          kernel_timing={"samples_ms": [scale * x for x in STEADY], "method": "cupti"})
               for u in ("1", "2")]  # fmt: skip
    return save_run(root, name, records, machine, None)


def test_two_saved_runs_compare_without_rerunning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, "main", 1.0)
    _run(tmp_path, "same", 1.0)
    _run(tmp_path, "slow", 1.2)
    assert main(["main", "same", "--store", str(tmp_path)]) == 0
    assert "2 SAME" in capsys.readouterr().out
    assert main(["main", "slow", "--store", str(tmp_path)]) == 1  # a confirmed slowdown fails, as in a pytest run
    out = capsys.readouterr().out
    assert "'slow'" in out and "2 SLOWER" in out and "2 item(s) fail the comparison" in out
    assert main(["--store", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert all(f"'{name}'" in listed for name in ("main", "same", "slow")) and "2 items" in listed


def test_refusals_name_the_run_and_the_way_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, "main", 1.0)
    other = _run(tmp_path, "b200", 1.0, machine={**MACHINE, "gpu": "NVIDIA B200"})
    assert main(["main", "nothing", "--store", str(tmp_path)]) == 2
    assert "no saved run named 'nothing' (saved: b200, main)" in capsys.readouterr().err
    assert main(["main", str(other), "--store", str(tmp_path)]) == 2
    assert "gpu NVIDIA H100 80GB HBM3 -> NVIDIA B200" in capsys.readouterr().err
    assert main(["main", str(other), "--store", str(tmp_path), "--force"]) == 0


def test_the_samples_of_both_runs_plot_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (pip install 'pytest-solbench[plot]')")
    _run(tmp_path, "main", 1.0)
    _run(tmp_path, "new", 1.0)
    assert main(["main", "new", "--store", str(tmp_path), "--histogram", str(tmp_path / "h.svg")]) == 0
    svg = (tmp_path / "h.svg").read_text()
    assert "k @ main" in svg and "k @ new" in svg
    assert "timing samples of 4 item(s) plotted" in capsys.readouterr().out


def test_it_runs_as_a_module(tmp_path: Path) -> None:
    _run(tmp_path, "main", 1.0)
    done = subprocess.run([sys.executable, "-m", "pytest_solbench.reports.saved", "main", "main", "--store",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "2 SAME" in done.stdout, done.stderr
