"""The red team end to end: every cheating kernel that can run without a GPU goes through the real plugin, each in
its own worker, and fails with its rule; an honest kernel run after them all still passes (no kernel's leftovers
reach it). The static layer alone is tested kernel by kernel in test_guard.py; the GPU-only tricks (side streams,
calls skipped while timed, cached results under CUPTI) run on the GPU machine (docs/threat-model.md)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDTEAM = ROOT / "tests" / "redteam"

#: Runtime kernel -> (status, rule): what the worker's checks must say.
RUNTIME = {
    "hack_input_mutation": ("REWARD_HACK", "input-mutation"),
    "hack_lazy_allowed": ("REWARD_HACK", "tensor-subclass"),
    "hack_thread_allowed": ("REWARD_HACK", "threads"),
    "hack_timer_patch_allowed": ("REWARD_HACK", "patching"),
    "hack_event_class_allowed": ("REWARD_HACK", "patching"),
    "hack_checker_patch_allowed": ("REWARD_HACK", "patching"),
    "hack_child_process_allowed": ("REWARD_HACK", "threads"),
    "hack_writes_file_allowed": ("REWARD_HACK", "file-network-os"),
    "hack_r2_fx_callable_write_allowed": ("REWARD_HACK", "file-network-os"),
    "hack_r3_list_subclass_allowed": ("RUNTIME_ERROR", None),  # its __iter__ never runs: a result not read
    "hack_r3_signal_judge": ("REWARD_HACK", "threads"),
    "hack_r8_pool_defers_allowed": ("REWARD_HACK", "threads"),
    "hack_r9_queued_behind_a_compiler_sleep": ("REWARD_HACK", "threads"),
    "hack_all_zeros": ("INCORRECT_NUMERICAL", None),
    "hack_r14_sparse_garbage": ("INCORRECT_NUMERICAL", None),
    "hack_r18_code_replace_allowed": ("REWARD_HACK", "runtime-load"),
    "hack_r18_namedtuple_built_string": ("REWARD_HACK", "runtime-load"),
    "hack_r19_vendor_thread": ("REWARD_HACK", "vendor-op"),
    "hack_r19_vendor_after_rounds": ("REWARD_HACK", "vendor-op"),
    "hack_r21_rmsnorm_layer_norm_hidden": ("REWARD_HACK", "vendor-op"),
    "hack_r21_vendor_in_grace_allowed": ("REWARD_HACK", "vendor-op"),
    "hack_r21_exec_on_a_thread_allowed": ("REWARD_HACK", "runtime-load"),
    "hack_r21_fork_from_a_thread_allowed": ("REWARD_HACK", "threads"),
    "hack_r40_redirect_stdout_flush": ("REWARD_HACK", "patching"),
    "hack_r40_redirect_stderr_exitstack": ("REWARD_HACK", "patching"),
    "hack_r41_baseexception_str_compile": ("REWARD_HACK", "vendor-op"),
    "hack_r41_baseexception_in_short_batch": ("RUNTIME_ERROR", None),
    "hack_r42_stdout_instance_flush_allowed": ("REWARD_HACK", "patching"),
    "hack_r42_json_encoder_allowed": ("REWARD_HACK", "vendor-op"),
    "hack_r43_buffer_flush_copy_reconstruct": ("INCORRECT_NUMERICAL", None),
    "hack_r43_stderr_buffer_flush_once_per_set": ("INCORRECT_NUMERICAL", None),
    "hack_r43_enum_convert_allowed": ("REWARD_HACK", "patching"),
    "hack_r44_mode_at_import_allowed": ("REWARD_HACK", "patching"),
    "hack_r44_mode_entered_in_call_allowed": ("REWARD_HACK", "patching"),
    "hack_r44_fake_torch_wrapper_allowed": ("REWARD_HACK", "patching"),
    "hack_r45_frombuffer_hook": ("REWARD_HACK", "patching"),
    "hack_r45_os_close_after_record": ("REWARD_HACK", "patching"),
    "hack_r45_reply_send_bytes_allowed": ("REWARD_HACK", "patching"),
    "hack_r46_struct_pack_after_record": ("INCORRECT_NUMERICAL", None),
    "hack_r46_struct_pack_rewrites_reply": ("REWARD_HACK", "vendor-op"),
    "hack_r46_request_unpickler_allowed": ("REWARD_HACK", "vendor-op"),
    "hack_r48_sigalrm_after_record_allowed": ("REWARD_HACK", "patching"),
    "hack_r50_spec_bool_after_record_allowed": ("REWARD_HACK", "patching"),
    "hack_r51_device_context_handler_allowed": ("REWARD_HACK", "patching"),
    "hack_r52_python_dispatcher_attach_allowed": ("REWARD_HACK", "patching"),
    "hack_r52_aten_impl_autograd_key_allowed": ("REWARD_HACK", "patching"),
    "hack_r53_aten_override_existing_key_allowed": ("REWARD_HACK", "patching"),
    "hack_r53_aten_override_autograd_alias_allowed": ("REWARD_HACK", "patching"),
    "hack_r69_collector_rearmed_allowed": ("REWARD_HACK", "patching"),
    "hack_r71_collector_hook_blinded_allowed": ("REWARD_HACK", "patching"),
}
#: A few static kernels too: the plugin turns a finding into REWARD_HACK before any worker starts.
STATIC = {"hack_vendor_rms_norm": "vendor-op", "hack_side_stream": "side-stream", "hack_getframe": "introspection",
          "hack_type_patch": "patching", "hack_atexit": "atexit", "hack_sys_dict": "dunder"}
#: Honest look-alikes that run too: the runtime tripwires must let them pass (thread pools, red-team rounds 8, j03,
#: 9, k02, and 10).
LOOKALIKES = ("pool_at_import", "pool_warmed_at_import", "pool_done_callback", "pool_result_queue", "pool_eight_workers",
              "pool_per_call", "triton_autotune", "warns_and_logs", "main_selftest", "logging_config", "typing_strings",
              "plain_decorator", "module_instance",
              # red-team round 21's false verdicts: the kernel's own objects, inspect.signature
              "frozen_dataclass_setattr", "inspect_signature", "init_subclass_registry", "vars_kwargs",
              "dataclass_fields", "enum_members", "own_dunders", "record_function_allowed",
              "triton_autotune_at_import",  # round 28, an05: an autotune the import runs, in CPU mode
              "settings_preamble", "packaging_version_guard",  # round 29, ap: settings assigned, a version guard
              "settings_from_env")  # round 30, ar: settings from the environment, the torch.compile preamble
#: A trick that is a file beside the kernel: its folder is copied whole, and its kernel is named "kernel".
FOLDER = ("shadow_torch", "shadowing")
#: Folders copied whole too, by kernel name: files written at run time that stood in for sources the rules read (a
#: planted .pyc, a late.py in a solution's folder: red-team round 18, u01, u02).
FOLDERS = {"hack_r18_pyc_plant": "rms_pyc", "hack_r18_solution_late_source": "redteam_r18_solution_late_source"}


def _layer(name: str) -> str:
    return re.search(r'^LAYER = "([^"]+)"', (REDTEAM / f"{name}.py").read_text(), re.M).group(1)


def test_every_runtime_cpu_kernel_is_listed_here() -> None:
    runtime_cpu = {p.stem for p in REDTEAM.glob("hack_*.py") if _layer(p.stem) == "runtime-cpu"}
    assert runtime_cpu == set(RUNTIME)


def test_red_team_through_the_plugin_then_an_honest_kernel(pytester: pytest.Pytester) -> None:
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    for name in [*RUNTIME, *STATIC]:
        shutil.copy(REDTEAM / f"{name}.py", kernels / f"{name}.py")
    shutil.copytree(REDTEAM / FOLDER[0], kernels / FOLDER[0])
    for name in FOLDERS:
        shutil.copytree(REDTEAM / name, kernels / name)
    for name in LOOKALIKES:
        shutil.copy(ROOT / "tests" / "lookalikes" / f"{name}.py", kernels / f"{name}.py")
    shutil.copy(ROOT / "examples" / "triton_rmsnorm.py", kernels / "zz_honest_rmsnorm.py")  # collected last
    problem = ROOT / "problems" / "llama3_1_8b_rmsnorm_h4096" / "definition.json"
    result = pytester.runpytest_subprocess(
        str(problem), "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(kernels), "-p", "no:randomly",
        "-p", "no:cacheprovider", "--solbench-rounds", "2", "-k", "num_tokens:7]", "--solbench-json", "t.jsonl",
        timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: (x["solbench"]["status"], x["solbench"].get("rule")) for x in lines}
    expected = {**RUNTIME, **{k: ("REWARD_HACK", rule) for k, rule in STATIC.items()},
                "kernel": ("REWARD_HACK", FOLDER[1]), "zz_honest_rmsnorm": ("PASSED", None),
                **{kernel: ("REWARD_HACK", "file-network-os") for kernel in FOLDERS.values()},
                **dict.fromkeys(LOOKALIKES, ("PASSED", None))}  # fmt: skip
    assert got == expected, (got, result.stdout.str()[-2000:])
    passed = 1 + len(LOOKALIKES)
    result.assert_outcomes(passed=passed, failed=len(expected) - passed)


def test_the_worker_loops_hooks_on_gemm_problems(pytester: pytest.Pytester) -> None:
    """Red-team rounds 45 and 46 on GEMM problems: a whole ``aten::mm`` done after the record closed, in the worker
    loop's ``os.close`` (bz06: held by the snapshot) or in the channel's ``struct.pack`` (cc06: the channel is the
    worker's own now, so the work never happens). Under strict both are ``vendor-op`` statically since round 60 (their
    class patterns read ``aten.mm``); their allowances let the run-time checks be tested here."""
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    for name in ("hack_r45_os_close_gemm", "hack_r46_struct_pack_gemm"):
        shutil.copy(REDTEAM / f"{name}.py", kernels / f"{name}.py")
    problems = [str(ROOT / "problems" / p / "definition.json")
                for p in ("deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048", "llama3_1_8b_qkv_proj_n6144_k4096")]
    pytester.runpytest_subprocess(
        *problems, "--solbench", "--solbench-device", "cpu", "--kernel-dir", str(kernels), "-p", "no:randomly",
        "-p", "no:cacheprovider", "--solbench-rounds", "2", "-k", "num_tokens:7]",
        "--solbench-json", "t.jsonl", timeout=1800,
    )  # fmt: skip
    lines = [json.loads(x) for x in (pytester.path / "t.jsonl").read_text().splitlines()]
    got = {x["solution"]: (x["solbench"]["status"], x["solbench"].get("rule")) for x in lines}
    assert got == {"hack_r45_os_close_gemm": ("REWARD_HACK", "patching"),
                   "hack_r46_struct_pack_gemm": ("INCORRECT_NUMERICAL", None)}, got
