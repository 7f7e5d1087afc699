"""--solbench-profile without a GPU: a fake ncu (a script in tmp_path) prints what ncu prints, or fails as it does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KERNELS, write_problem
from pytest_solbench.worker import profile as prof
from pytest_solbench.data.discovery import discover
from pytest_solbench.protocol import ItemRequest

LAUNCH = ('"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size",'
          '"Device","CC"')
METRIC_COLUMNS = ",".join(f'"{m}"' for m in sorted(prof.METRICS))  # ncu sorts the metric columns by name
PREAMBLE = (
    "==PROF== Connected to process 4242 (/usr/bin/python3.12)\n"
    '==PROF== Profiling "vectorized_elementwise_kernel" - 0: 0%....50%....100% - 9 passes\n'
    "==PROF== Disconnected from process 4242\n"
)


def kernel_row(index: int, name: str, memory: str, dram: str, duration: str, sm: str) -> str:
    launch = f'"{index}","4242","python3.12","127.0.0.1","{name}","1","7","(128, 1, 1)","(2112, 1, 1)","0","9.0"'
    return f'{launch},"{memory}","{dram}","{duration}","{sm}"\n'


def ncu_csv(*rows: str, time_unit: str = "usecond") -> str:
    units = ",".join(['""'] * 11 + ['"%"', '"%"', f'"{time_unit}"', '"%"'])
    return PREAMBLE + f"{LAUNCH},{METRIC_COLUMNS}\n{units}\n" + "".join(rows)


ELEMENTWISE = kernel_row(0, "void at::native::vectorized_elementwise_kernel<4, T1, T2>(int, T1, T2)",
                         "88.41", "87.12", "62.53", "12.05")  # fmt: skip


def fake_ncu(tmp_path: Path, body: str) -> str:
    """An executable that records its argv in argv.json, then runs ``body`` (Python, with sys imported)."""
    script = tmp_path / "ncu"
    script.write_text(f"#!{sys.executable}\nimport json, sys, time\n"
                      f"json.dump(sys.argv, open({str(tmp_path / 'argv.json')!r}, 'w'))\n{body}\n")  # fmt: skip
    script.chmod(0o755)
    return str(script)


def printing(text: str, stderr: str = "", code: int = 0) -> str:
    return f"sys.stdout.write({text!r})\nsys.stderr.write({stderr!r})\nsys.exit({code})"


def request(tmp_path: Path, device: str = "cuda", kernel: str = "good_value.py", source: str = "") -> ItemRequest:
    definition = write_problem(tmp_path / "problems")
    folder = tmp_path / "kernels" / kernel
    folder.mkdir(parents=True, exist_ok=True)
    (folder / kernel).write_text(source or KERNELS[kernel])
    specs, errors = discover([folder])
    assert not errors
    return ItemRequest(definition_path=str(definition), workload_uuid="w-16", kernel=specs[0].to_payload(),
                       device=device, seed=7, rounds=0, time_kernel=True)  # fmt: skip


# ---------------------------------------------------------------- reading the CSV, the limiter, the -v line


def test_parse_reads_one_kernel_after_the_preamble():
    (kernel,) = prof.parse_csv(ncu_csv(ELEMENTWISE))
    assert kernel.name.startswith("void at::native::vectorized_elementwise_kernel<4, T1, T2>")
    assert (kernel.duration_us, kernel.dram_throughput_pct, kernel.memory_throughput_pct,
            kernel.sm_throughput_pct) == (62.53, 87.12, 88.41, 12.05)  # fmt: skip


def test_several_kernels_are_weighted_by_duration_in_any_time_unit():
    text = ncu_csv(kernel_row(0, "reduce", "20", "10", "1,000", "90"),
                   kernel_row(1, "scale", "95", "90", "3,000", "10"), time_unit="nsecond")
    kernels = prof.parse_csv(text)
    assert [k.duration_us for k in kernels] == [1.0, 3.0]
    p = prof.summarize(kernels, "ncu ...")
    assert p.duration_us == 4.0
    assert p.dram_throughput_pct == pytest.approx((10 * 1 + 90 * 3) / 4)
    assert p.sm_throughput_pct == pytest.approx((90 * 1 + 10 * 3) / 4)
    assert p.limiter == "memory"
    assert prof.format_short(p) == "DRAM 70% SM 30% memory-bound over 2 kernels"


def test_older_dram_spelling_and_unknown_values_are_read():
    old_dram = "dram__throughput.avg.pct_of_peak_sustained_elapsed"
    header = f'{LAUNCH},"{old_dram}","{prof.MEMORY}","{prof.DURATION}","{prof.SM}"'
    text = f"{header}\n" + ",".join(['""'] * 11 + ['"%"', '"%"', '"msecond"', '"%"']) + "\n"
    text += f'"0","1","p","h","k","1","7","(1, 1, 1)","(1, 1, 1)","0","9.0","55.5","n/a","0.25","3"\n'
    (kernel,) = prof.parse_csv(text)
    assert (kernel.dram_throughput_pct, kernel.memory_throughput_pct, kernel.duration_us) == (55.5, None, 250.0)


def test_missing_table_or_metric_is_a_value_error():
    with pytest.raises(ValueError, match="no CSV table"):
        prof.parse_csv(PREAMBLE)
    with pytest.raises(ValueError, match=prof.SM):
        prof.parse_csv(f'{LAUNCH},"{prof.DURATION}","{prof.DRAM}","{prof.MEMORY}"\n')


@pytest.mark.parametrize("memory, sm, expected", [
    (87.0, 12.0, "memory"), (20.0, 75.0, "compute"), (60.0, 60.0, "memory"), (59.9, 45.0, "latency"),
    (None, None, "latency"), (None, 80.0, "compute"),
])  # fmt: skip
def test_limiter_is_the_busier_unit_from_60_percent(memory, sm, expected):
    assert prof.limiter(memory, sm) == expected


def test_short_line_names_a_busy_cache_and_latency():
    kernel = prof.KernelProfile("k", 5.0, dram_throughput_pct=8.0, memory_throughput_pct=71.0, sm_throughput_pct=30.0)
    assert prof.format_short(prof.summarize([kernel], "")) == "DRAM 8% L1/L2 71% SM 30% memory-bound"
    idle = prof.KernelProfile("k", 5.0, dram_throughput_pct=3.0, memory_throughput_pct=4.0, sm_throughput_pct=2.0)
    assert prof.format_short(prof.summarize([idle], "")) == "DRAM 3% SM 2% latency-bound"


# ---------------------------------------------------------------- running ncu


def test_profile_runs_ncu_on_the_child_and_gives_a_command_to_dig_further(tmp_path):
    req = request(tmp_path)
    ncu = fake_ncu(tmp_path, printing(ncu_csv(ELEMENTWISE)))
    p = prof.profile_item(req, timeout_s=60, ncu=ncu, env={"CUDA_VISIBLE_DEVICES": "1"}, folder=tmp_path)
    assert isinstance(p, prof.Profile), p
    assert (p.dram_throughput_pct, p.sm_throughput_pct, p.limiter) == (87.12, 12.05, "memory")
    assert prof.format_short(p) == "DRAM 87% SM 12% memory-bound"
    argv = json.loads((tmp_path / "argv.json").read_text())
    request_file = Path(argv[-1])
    assert argv[1:5] == ["--csv", "--page", "raw", "--metrics"] and argv[5].split(",") == list(prof.METRICS)
    assert argv[6:] == ["--nvtx", "--nvtx-include", "solbench_profile/", "--target-processes", "all",
                        "--clock-control", "none", sys.executable, "-m", "pytest_solbench.worker.profile", str(request_file)]
    back = prof.read_request(request_file)
    assert back.kernel == req.kernel and back.workload_uuid == "w-16" and Path(back.definition_path).is_absolute()
    assert p.command.startswith(f"CUDA_VISIBLE_DEVICES=1 {ncu} --set full --import-source yes -f -o ")
    assert p.command.endswith(f" -m pytest_solbench.worker.profile {request_file}")
    assert prof.as_record(p)["kernels"][0]["duration_us"] == 62.53 and prof.as_record(p)["limiter"] == "memory"
    assert prof.describe(p) == f"profile: DRAM 87% SM 12% memory-bound\n  dig further: {p.command}"
    assert json.loads(json.dumps(prof.as_record(p))) == prof.as_record(p)  # plain JSON, for xdist and the trace


@pytest.mark.parametrize("body, reason", [
    (printing(PREAMBLE, "==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU "
              "Performance Counters on the target device 0.\n"), "NVreg_RestrictProfilingToAdminUsers=0"),
    (printing(PREAMBLE, "loading\nsolbench profile: the kernel's call failed: RuntimeError: boom\n", code=1),
     "the profiled call failed (ncu exit status 1):\nloading\nsolbench profile: the kernel's call failed: "),
    (printing(ncu_csv()), "ncu profiled no kernel inside the NVTX range 'solbench_profile'"),
    (printing(PREAMBLE + "==WARNING== No kernels were profiled.\n"), "ncu printed no CSV table"),
    ("time.sleep(60)", "ncu ran past the 0.5 s timeout and was stopped"),
])  # fmt: skip
def test_each_failure_is_a_reason(tmp_path, body, reason):
    result = prof.profile_item(request(tmp_path), timeout_s=0.5 if "sleep" in body else 60,
                               ncu=fake_ncu(tmp_path, body), folder=tmp_path)  # fmt: skip
    assert isinstance(result, str) and reason in result, result
    assert prof.as_record(result) == {"skipped": result} and prof.describe(result) == f"profile skipped: {result}"


def test_no_ncu_or_no_gpu_is_a_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(prof, "find_ncu", lambda: None)
    assert prof.profile_item(request(tmp_path), 60).startswith("ncu (Nsight Compute) not found")
    assert prof.profile_item(request(tmp_path, device="cpu"), 60, ncu="ncu") == (
        "profiling needs a GPU: this item ran on the CPU")


def test_find_ncu_looks_on_path_first(tmp_path, monkeypatch):
    ncu = fake_ncu(tmp_path, "")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert prof.find_ncu() == ncu


# ---------------------------------------------------------------- the child


def test_child_calls_the_kernel_twice_and_reports_failures(tmp_path, capsys):
    calls = tmp_path / "calls.txt"
    counting = ('DEFINITION = "scale_add_f32"\n\ndef run(x, y, alpha):\n'
                f'    open({str(calls)!r}, "a").write("call\\n")\n    return x * alpha + y\n')  # fmt: skip
    path = prof.write_request(request(tmp_path, "cpu", "counting.py", counting), tmp_path)
    assert prof.main([str(path)]) == 0
    assert calls.read_text() == "call\ncall\n"  # the warm-up, then the profiled call

    failing = prof.write_request(request(tmp_path, "cpu", "raises.py"), tmp_path)
    assert prof.main([str(failing)]) == 1
    assert "the kernel's call failed: RuntimeError: boom from the kernel" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert prof.main([str(tmp_path / "bad.json")]) == 2
    assert "not a solbench profile request" in capsys.readouterr().err


def test_the_module_imports_no_torch():
    code = "import sys, pytest_solbench.worker.profile; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_the_child_runs_as_a_module(tmp_path):
    """The command ncu runs, without ncu: ``python -m pytest_solbench.worker.profile FILE`` exits 0 (CPU, no NVTX range)."""
    path = prof.write_request(request(tmp_path, "cpu"), tmp_path)
    done = subprocess.run([sys.executable, "-m", "pytest_solbench.worker.profile", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
