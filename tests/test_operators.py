"""The allow-list of dispatched operators (``guard.operators``), judged in the judge (``guard.dispatched.finding``,
``judge.kernel.Kernel.judge_ops``): the library ops rounds 18 to 22 found doing a whole op fail even where no family
names them, the ops honest kernels dispatch pass, and a record the kernel's process stopped, kept back, could not start
or flooded fails."""

from __future__ import annotations

import math

import pytest
from conftest import judging

from pytest_solbench.guard import dispatched, operators
from pytest_solbench.guard.families import BLOCK_PARTS, VENDOR_FAMILIES, family_parts, matching_families

#: What the bundled examples, look-alikes and torch-written kernels dispatch on torch 2.11 and 2.13, and the other
#: forms torch names the same ops by (in place, a view's copy, an alias, a list version, ``special_``).
HONEST = ["empty", "empty_like", "empty_strided", "zeros", "full", "arange", "view", "reshape", "_unsafe_view",
          "expand", "as_strided", "permute", "transpose", "contiguous", "clone", "copy_", "_to_copy", "to", "t",
          "add", "add_", "mul", "sub", "div", "floor_divide", "divide", "rsqrt", "exp", "pow", "abs_", "neg",
          "sigmoid", "tanh", "where", "masked_fill_", "clamp", "clamp_min", "sum", "mean", "amax", "max", "var",
          "linalg_vector_norm", "cumsum", "topk", "sort", "index", "index_put_", "index_select", "gather",
          "scatter_add_", "cat", "stack", "split", "chunk", "unbind", "repeat_interleave", "outer", "cos", "sin",
          "_local_scalar_dense", "item", "is_nonzero", "fill_", "zero_", "lift_fresh", "detach", "alias",
          "expand_copy", "_foreach_add_", "special_erf", "__iand__", "randn", "resolve_conj", "select", "slice",
          "unsqueeze", "squeeze", "flatten", "narrow", "embedding", "constant_pad_nd", "matmul", "linear"]

#: op type -> the aten ops, none of them named by its family, that did (or a part of) its whole op in rounds 18 to 22.
WHOLE = {
    "gemm": ["mm", "bmm", "addmm", "baddbmm", "_cdist_forward", "_euclidean_dist", "_pdist_forward", "dot", "mv",
             "convolution", "_convolution", "mkldnn_convolution", "embedding_bag", "_embedding_bag", "_trilinear",
             "_fft_r2c", "_fft_c2c", "_linalg_solve_ex", "_linalg_svd", "vdot", "addbmm",
             "sspaddmm"],  # composite, but through its own out= twin (red-team round 50, cn01)
    "rmsnorm": ["native_layer_norm", "native_batch_norm", "_fused_rms_norm", "_weight_norm_interface", "_softmax",
                "_fft_r2c", "convolution"],
    "softmax": ["_softmax", "_log_softmax", "_safe_softmax", "_masked_softmax", "convolution"],
    "silu_and_mul": ["glu", "_softmax", "convolution"],
    "embedding": ["mm", "addmm", "embedding_bag"],
    "conv2d": ["mm", "bmm", "convolution", "sspaddmm"],
    "gqa_paged": ["_scaled_dot_product_flash_attention_for_cpu", "_efficient_attention_forward", "_fft_r2c"],
}


@pytest.mark.parametrize("op", HONEST)
def test_the_ops_an_honest_kernel_dispatches_are_allowed(op: str) -> None:
    assert operators.allowed(op), op
    assert dispatched.finding([f"aten::{op}", "triton::anything", "mylib::my_kernel"], "silu_and_mul_backward") is None


@pytest.mark.parametrize(("op_type", "op"), [(t, op) for t, ops in WHOLE.items() for op in ops])
def test_library_ops_outside_the_list_are_vendor_ops_with_or_without_a_family(op_type: str, op: str) -> None:
    found = dispatched.finding(["aten::empty", f"aten::{op}"], op_type)
    assert found is not None and found[0] == "vendor-op" and f"aten::{op}" in found[1], (op_type, op, found)


def test_a_familys_parts_are_allowed_for_it_alone() -> None:
    """A GEMM and a softmax are parts of attention (torch_gqa_decode writes one so); a softmax is not a part of an
    RMSNorm, nor a GEMM of a GEMM."""
    ops = ["aten::bmm", "aten::_softmax", "aten::einsum", "aten::_unsafe_view"]
    assert dispatched.finding(ops, "gqa_paged") is None
    assert dispatched.finding(ops, "moe_finalize") is None
    assert dispatched.finding(ops, "rmsnorm")[0] == "vendor-op"
    assert dispatched.finding(["aten::bmm"], "rmsnorm") is None
    assert dispatched.finding(["aten::bmm"], "gemm")[0] == "vendor-op"
    assert dispatched.finding(["aten::_scaled_dot_product_flash_attention_for_cpu"], "gqa_paged")[0] == "vendor-op"


def test_no_part_is_a_library_op_its_family_forbids() -> None:
    for family in VENDOR_FAMILIES:
        parts = family_parts(family.keywords[0])
        assert not dispatched.vendor_dispatches([f"aten::{p}" for p in parts], family.keywords[0]), family.label


def test_only_aten_is_judged_by_the_list() -> None:
    """A kernel's own custom ops and the profiler's ranges pass; torch's library namespaces stay the families'."""
    assert dispatched.finding(["mylib::rmsnorm", "Torch-Compiled Region", "prims::convert_element_type"],
                              "rmsnorm") is None  # fmt: skip
    assert dispatched.finding(["mkldnn::_linear_pointwise"], "gemm")[0] == "vendor-op"


def test_an_op_this_torch_does_not_register_is_not_allowed_by_tags() -> None:
    assert not operators.allowed("no_such_operator_anywhere")
    assert not operators.allowed("__class__") and not operators.allowed("name")


@pytest.mark.parametrize(("marker", "words"), [(dispatched.STOPPED, "stopped"), (dispatched.UNRECORDED, "could not start"),
                                               (dispatched.FLOODED, "more than")])  # fmt: skip
def test_a_record_stopped_unstarted_or_flooded_is_patching(marker: str, words: str) -> None:
    rule, message = dispatched.finding(["aten::empty", marker], "rmsnorm")
    assert rule == "patching" and words in message


def test_a_record_sent_whole_or_as_flooded() -> None:
    """Ranges of the kernel's own named like operators cannot push torch's out of what is sent."""
    assert dispatched.sent({"aten::mm", "a range", dispatched.STOPPED}) == sorted(["aten::mm", dispatched.STOPPED])
    flood = {f"aaa::{i}" for i in range(dispatched.MAX_SENT + 1)} | {"aten::mm"}
    assert dispatched.sent(flood) == [dispatched.FLOODED]


def _judge(kernel: object, ops: list[str] | None, op_type: str = "rmsnorm") -> str | None:
    from pytest_solbench.judge.kernel import Verdict

    try:
        kernel.judge_ops(ops, op_type)
    except Verdict as verdict:
        return verdict.outcome.log
    return None


def test_the_judge_judges_the_record_it_asked_for() -> None:
    assert "aten::_fft_r2c" in _judge(judging(), ["aten::_fft_r2c"])
    assert "sent no record" in _judge(judging(), None)  # asked for, kept back
    assert _judge(judging(), ["aten::empty", "aten::add"]) is None
    assert _judge(judging(guard=False), ["aten::_fft_r2c"]) is None
    assert _judge(judging(allowed=("vendor-op",)), ["aten::_fft_r2c"]) is None
    assert _judge(judging(reference=True), None) is None
    assert _judge(judging(), None, "fp8_group_quant") is None  # no family: nothing asked for


def test_fused_op_types_other_namespaces_and_composites_that_call_libraries() -> None:
    """Red-team round 23 (attack-ac): a fused op whose every part is the library's (ac07), torch's other namespaces
    (``mkl``, ``onednn``, ``mkldnn_prepacked``, ``_quantized``: ac01, ac04, ac06, ac10) and a composite op that calls
    FBGEMM straight (ac02) fail; a GEMM inside a RoPE (ac05) or a norm's backward (ac09) passes."""
    assert dispatched.finding(["aten::linear", "aten::addmm", "aten::gelu"], "linear_gelu")[0] == "vendor-op"
    assert dispatched.finding(["aten::linear", "aten::addmm", "aten::erf", "aten::mul"], "linear_gelu") is None
    assert dispatched.finding(["aten::_addmm_activation"], "linear_gelu_tanh")[0] == "vendor-op"  # GEMM and GELU
    assert dispatched.watched("layernorm_linear_gelu")
    for name in ("mkl::_mkl_linear", "onednn::linear_dynamic_fp16", "mkldnn_prepacked::conv2d_run",
                 "_quantized::wrapped_fbgemm_linear_fp16_weight", "_native::rms_norm"):
        if operators.library_namespace(name.partition("::")[0]):  # a namespace this build registers (2.11's CUDA lacks some)
            assert dispatched.finding(["aten::empty", name], "qkv_proj")[0] == "vendor-op", name
        else:  # one it does not is a kernel's own: what its ops call is recorded and judged
            assert dispatched.finding(["aten::empty", name], "qkv_proj") is None, name
    assert not operators.allowed("fbgemm_linear_fp16_weight") and not operators.allowed("_wrapped_linear_prepack")
    assert dispatched.finding(["aten::matmul", "aten::bmm", "aten::einsum"], "rope") is None
    assert dispatched.finding(["aten::einsum", "aten::bmm"], "adaln_modulate_backward") is None
    assert dispatched.finding(["aten::mm"], "embedding")[0] == "vendor-op"  # a one-hot row times the table
    assert dispatched.finding(["profiler::_record_function_enter_new", "rngprims::philox_rand"], "rmsnorm") is None


def test_torchs_fp8_gemm_is_a_part_where_a_gemm_is_and_the_whole_op_of_a_gemm() -> None:
    """Red-team round 73, fb-FV1: a DeepGEMM-style FP8 MoE ran each expert's 128-wide K blocks through
    ``torch._scaled_mm`` (raw e4m3 operands, scales applied in fp32 after) and was refused as a vendor op; it is
    mm's FP8 twin, a part of a MoE or an attention, and still the whole op of an FP8 GEMM problem."""
    moe = ["aten::_scaled_mm", "aten::sigmoid", "aten::topk", "aten::mul", "aten::index_add_"]
    assert dispatched.finding(moe, "moe_fused_fp8_block_scale") is None
    assert dispatched.finding(["aten::_scaled_mm", "aten::mul"], "gqa_prefill_fp8") is None
    assert dispatched.finding(["aten::_scaled_mm"], "gemm_fp8_block_scale")[0] == "vendor-op"


def _through_the_plugin(pytester: pytest.Pytester, problems: tuple[str, ...], select: str,
                        redteam: tuple[str, ...] = (), lookalikes: tuple[str, ...] = (),
                        folders: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> list[dict]:  # fmt: skip
    """The trace lines of one plugin run in CPU mode (two rounds) over ``problems``, selected by ``select``, of the
    red-team kernels, red-team folders and look-alikes named, copied into one kernel folder."""
    import json
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    for name in redteam:
        shutil.copy(root / "tests" / "redteam" / f"{name}.py", kernels)
    for name in folders:
        shutil.copytree(root / "tests" / "redteam" / name, kernels / name)
    for name in lookalikes:  # a file, or a folder kernel (its helpers and tables beside it)
        folder = root / "tests" / "lookalikes" / name
        if folder.is_dir():
            shutil.copytree(folder, kernels / name)
        else:
            shutil.copy(folder.with_suffix(".py"), kernels)
    result = pytester.runpytest_subprocess(
        *(str(root / "problems" / p / "definition.json") for p in problems), "--solbench", "--solbench-device", "cpu",
        "--kernel-dir", str(kernels), "-p", "no:randomly", "-p", "no:cacheprovider", "--solbench-rounds", "2",
        "--solbench-json", "t.jsonl", "-k", select, *extra, timeout=1800,
    )  # fmt: skip
    traces = pytester.path / "t.jsonl"
    assert traces.exists(), result.stdout.str()[-3000:] + result.stderr.str()[-2000:]
    return [json.loads(x) for x in traces.read_text().splitlines()]


def test_round_23_kernels_through_the_plugin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused op done wholly by the library fails at run time, and so does a GEMM with torch's operator record
    switched off around it (round 24, af04: the switch is a no-op in a kernel's process); the honest look-alikes the
    allow-list first failed
    (a GEMM in a RoPE, ``einsum`` in a norm's backward, autograd through a softmax, triangular solves) pass."""
    honest = ("rope_rotation_matrix", "adaln_backward_einsum", "attention_backward_autograd", "gated_delta_prefill_solve",
              "rope_backward_einsum", "torch_compile")
    # a cold Inductor cache: compiling asks torch.ops.mkldnn what the CPU supports, inside the first recorded call
    # (red-team round 25, ag04: the look-alike failed only where nothing was cached)
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(pytester.path / "inductor"))
    lines = _through_the_plugin(
        pytester, ("whisper_large_v3_fc1_gelu_h1280_i5120", "flux1_dev_rope_h24_d128",
                   "dit_xl_2_adaln_modulate_backward_h1152", "llama3_1_8b_attention_backward_causal_h32_kv8_d128",
                   "qwen3_next_80b_a3b_gated_delta_rule_chunked_prefill_h32_d128", "llama3_1_8b_rope_backward_q32_kv8_d128",
                   "bert_base_qkv_proj_n2304_k768", "qwen3_30b_a3b_moe_topk_softmax_router_e128_h2048",
                   "llama3_1_8b_rmsnorm_h4096"),
        "num_tokens:1] or num_tokens:128] or (batch_size:1 and seq_len:512) or (batch_size:4 and seq_len:256) or "
        "(batch_size:1 and seq_len:64) or num_tokens:7]",
        redteam=("hack_r23_fused_all_library", "hack_r24_record_switch", "hack_r24_router_all_library",
                 "hack_r25_fused_epilogue"), lookalikes=honest)  # fmt: skip
    got = {(x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines}
    assert got == {("hack_r23_fused_all_library", "REWARD_HACK", "vendor-op"),
                   ("hack_r24_record_switch", "REWARD_HACK", "vendor-op"),
                   ("hack_r24_router_all_library", "REWARD_HACK", "vendor-op"),
                   ("hack_r25_fused_epilogue", "REWARD_HACK", "vendor-op"),
                   *((name, "PASSED", None) for name in honest)}, got  # fmt: skip


def test_library_work_at_import_fails_and_an_honest_compile_there_passes(pytester: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A GEMM compiled by Inductor's max-autotune C++ template at import ran no recorded call: the import's own
    record (``worker.harness.load``, judged by ``Kernel.judge_import``) holds the trace's GEMM (red-team round 26,
    ai01, ai02); one compiled in a finalizer after a call's record closed is torch's library call, recorded in the
    next call (round 27, ak02: ``worker.rewrites``). An honest kernel compiled and warmed up at import with a cold
    Inductor cache passes in a GEMM problem, whose family names oneDNN's namespace (Inductor's questions to oneDNN are
    not its work); and attention written out and compiled stays the kernel's own (``worker.rewrites``: Inductor's
    pattern would put torch's SDPA in, aj FV-1)."""
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(pytester.path / "inductor"))
    lines = _through_the_plugin(
        pytester, ("deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048", "vit_base_patch16_224_patch_embed_c768_p16",
                   "llama3_2_11b_vision_cross_attention_h32_kv8_d128", "bert_base_qkv_proj_n2304_k768"),
        "num_tokens:7] or batch_size:1] or q_len:1- or num_tokens:128]",
        redteam=("hack_r26_import_template_gemm", "hack_r26_import_template_conv", "hack_r27_finalizer_template_gemm"),
        lookalikes=("compiled_at_import_gemm", "compiled_cross_attention"))  # fmt: skip
    got = {(x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines
           if x["solbench"]["status"] != "SKIPPED"}  # CPU mode skips the larger cross-attention workloads
    assert got == {("hack_r26_import_template_gemm", "REWARD_HACK", "vendor-op"),
                   ("hack_r26_import_template_conv", "REWARD_HACK", "vendor-op"),
                   ("hack_r27_finalizer_template_gemm", "REWARD_HACK", "vendor-op"),
                   ("compiled_at_import_gemm", "PASSED", None), ("compiled_cross_attention", "PASSED", None)}, got
    assert all("while the kernel's module was imported" in x["evaluation"]["log"] for x in lines
               if x["solution"].startswith("hack_r26"))  # fmt: skip


def test_the_import_is_judged_for_every_item_failed_imports_too_and_tables_built_there_pass(
        pytester: pytest.Pytester) -> None:  # fmt: skip
    """Every item's load answers with every import of the kernel in its process: the second item of a kernel whose
    import traced a GEMM fails too, and so does one whose first import compiled the GEMM, stashed it in a helper
    module and raised (red-team round 27, al00, al00b). Tables built at import with ``torch.linalg`` or an FFT on
    constants pass: only the family's library ops count there (al13, al16, al17). A finalizer left on a call's input
    runs inside the call's record (round 28, am01, am02: it compiled a GEMM template with a config key built from two
    strings, or traced a linear into oneDNN Graph, after the record had closed)."""
    lines = _through_the_plugin(
        pytester, ("deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048", "convnext_base_dwconv7x7_c128_h56",
                   "gemma2_2b_gelu_tanh_and_mul_i9216", "bert_base_qkv_proj_n2304_k768"),
        "num_tokens:1] or num_tokens:7] or batch_size:1] or num_tokens:128]",
        redteam=("hack_r26_import_template_gemm", "hack_r28_computed_backend_key", "hack_r28_llga_trace"),
        folders=("hack_r27_failed_import_stash",),
        lookalikes=("import_winograd_matrices", "import_dft_table", "import_polynomial_fit"))  # fmt: skip
    got = sorted((x["solution"], x["workload"]["axes"].get("num_tokens", 0), x["solbench"]["status"],
                  x["solbench"].get("rule")) for x in lines if x["solbench"]["status"] != "SKIPPED")  # fmt: skip
    assert got == sorted([
        ("al00b_gemm", 1, "REWARD_HACK", "vendor-op"), ("al00b_gemm", 7, "REWARD_HACK", "vendor-op"),
        ("hack_r26_import_template_gemm", 1, "REWARD_HACK", "vendor-op"),
        ("hack_r26_import_template_gemm", 7, "REWARD_HACK", "vendor-op"),
        ("import_dft_table", 0, "PASSED", None), ("import_winograd_matrices", 0, "PASSED", None),
        ("import_polynomial_fit", 1, "PASSED", None), ("import_polynomial_fit", 7, "PASSED", None),
        ("hack_r28_computed_backend_key", 128, "REWARD_HACK", "vendor-op"),
        ("hack_r28_llga_trace", 128, "REWARD_HACK", "patching"),
    ]), got  # fmt: skip


def test_a_compile_in_a_finalizer_on_a_short_batch_input_is_recorded(pytester: pytest.Pytester) -> None:
    """CPU mode's short batch lets go of its tensors inside its record: a GEMM compiled with Inductor's C++ wrapper
    in a finalizer hung on a batch call's input is traced there (red-team round 29, ao03: it ran at the next item's
    timed request, unrecorded, and the wrapper's GEMM dispatched nothing afterwards). The automatic collector is off,
    so a finalizer of the kernel's own cyclic garbage runs inside a record too (round 30, aq01)."""
    lines = _through_the_plugin(pytester, ("deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048",),
                                "num_tokens:7] or num_tokens:64]",
                                redteam=("hack_r29_batch_finalizer_cpp_wrapper", "hack_r30_collector_cpp_wrapper"))
    got = sorted((x["solution"], x["workload"]["axes"]["num_tokens"], x["solbench"]["status"],
                  x["solbench"].get("rule")) for x in lines)  # fmt: skip
    assert got == [(kernel, tokens, "REWARD_HACK", "vendor-op")
                   for kernel in ("hack_r29_batch_finalizer_cpp_wrapper", "hack_r30_collector_cpp_wrapper")
                   for tokens in (7, 64)], got  # fmt: skip


def test_a_fused_op_or_block_may_hand_one_heavy_part_to_the_library_not_two(pytester: pytest.Pytester) -> None:
    """A fused LayerNorm, linear and GELU whose norm is torch's ``CrossMapLRN2d`` (its record: primitives under the
    autograd Function's label) and whose GEMM is ``F.linear`` hands two parts over (red-team round 40, bj05); so do a
    ResnetBlock made of library calls and the Hyena problem's reference copied verbatim (bl22, bl25: their op types
    had no family, so the record was not judged). Honest blocks that hand one heavy part over pass."""
    lines = _through_the_plugin(
        pytester, ("convnext_base_layernorm_pwconv1_gelu_c512_h14", "sd1_5_unet_resnet_block_temb_c320",
                   "stripedhyena_7b_hyena_operator_d4096_s2"),
        "batch_size:1] or batch_size:1-height:64- or batch_size:1-seq_len:128]",
        redteam=("hack_r40_fused_lrn_and_linear", "hack_r40_resnet_block_all_library",
                 "hack_r40_hyena_reference_verbatim", "hack_r41_hyena_library_convs", "hack_r42_hyena_toeplitz_gemm",
                 "hack_r46_hyena_one_tap_conv", "hack_r46_hyena_toeplitz_1x1_conv", "hack_r46_hyena_forged_short_marker",
                 "hack_r47_hyena_transposed_one_tap", "hack_r47_hyena_convolution_transposed_flag",
                 "hack_r48_resnet_norms_and_mv_convs", "hack_r48_hyena_toeplitz_mv"),
        lookalikes=("resnet_block_hand_norms_library_convs", "hyena_hand_fir_fft_longconv",
                    "hyena_einsum_modal_filter", "hyena_library_fir_recurrent_longconv"),
        extra=("--solbench-cpu-max-gflop", "50"))  # fmt: skip
    got = sorted((x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines)
    assert got == sorted([("hack_r40_fused_lrn_and_linear", "REWARD_HACK", "vendor-op"),
                          ("hack_r40_resnet_block_all_library", "REWARD_HACK", "vendor-op"),
                          ("hack_r40_hyena_reference_verbatim", "REWARD_HACK", "vendor-op"),
                          ("hack_r41_hyena_library_convs", "REWARD_HACK", "vendor-op"),
                          ("hack_r42_hyena_toeplitz_gemm", "REWARD_HACK", "vendor-op"),
                          ("hack_r46_hyena_one_tap_conv", "REWARD_HACK", "vendor-op"),
                          ("hack_r46_hyena_toeplitz_1x1_conv", "REWARD_HACK", "vendor-op"),
                          ("hack_r46_hyena_forged_short_marker", "REWARD_HACK", "vendor-op"),
                          ("hack_r47_hyena_transposed_one_tap", "REWARD_HACK", "vendor-op"),
                          ("hack_r47_hyena_convolution_transposed_flag", "REWARD_HACK", "vendor-op"),
                          ("hack_r48_resnet_norms_and_mv_convs", "REWARD_HACK", "vendor-op"),
                          ("hack_r48_hyena_toeplitz_mv", "REWARD_HACK", "vendor-op"),
                          ("resnet_block_hand_norms_library_convs", "PASSED", None),
                          ("hyena_hand_fir_fft_longconv", "PASSED", None),
                          ("hyena_einsum_modal_filter", "PASSED", None),
                          ("hyena_library_fir_recurrent_longconv", "PASSED", None)]), got  # fmt: skip


def test_a_block_is_held_to_its_parts_and_the_allow_list() -> None:
    """A block's GEMM counts as its conv part (round 42, bp01: a conv by shifted views and one GEMM beside a library
    group norm), its convolution by a triangular solve is off the allow-list (round 41, bm03), and a library
    convolution or GEMM in Hyena is refused alone (bm02; bp06, its long filter by a Toeplitz GEMM)."""
    ok = {"aten::convolution", "aten::mkldnn_convolution", "aten::linear", "aten::addmm", "aten::add", "aten::silu"}
    assert dispatched.finding(ok, "resnet_block_temb") is None
    gemm_conv = {"aten::native_group_norm", "aten::matmul", "aten::mm", "aten::constant_pad_nd"}
    assert "not every one" in dispatched.finding(gemm_conv, "resnet_block_temb")[1]
    solve = {"aten::native_group_norm", "aten::linalg_solve_triangular", "aten::im2col"}
    assert "linalg_solve_triangular" in dispatched.finding(solve, "resnet_block_temb")[1]
    both = {"aten::native_group_norm", "aten::convolution", "aten::mkldnn_convolution"}
    assert "not every one" in dispatched.finding(both, "resnet_block_temb")[1]
    assert dispatched.finding({"aten::_fft_r2c", "aten::_fft_c2r", "aten::mul"}, "hyena_operator") is None
    assert "can do the whole" in dispatched.finding({"aten::matmul", "aten::bmm"}, "hyena_operator")[1]
    assert "can do the whole" in dispatched.finding({"aten::convolution", "aten::mkldnn_convolution"},
                                                   "hyena_operator")[1]  # fmt: skip
    short = {dispatched.SHORT_CONVOLUTIONS, "aten::convolution", "aten::mkldnn_convolution"}
    assert dispatched.finding(short, "hyena_operator") is None  # the short filter, as the reference does it
    assert "not every one" in dispatched.finding(short | {"aten::_fft_r2c"}, "hyena_operator")[1]
    assert "can do the whole" in dispatched.finding(short | {"aten::bmm"}, "hyena_operator")[1]  # a Toeplitz GEMM
    assert "can do the whole" in dispatched.finding(short | {"aten::mv"}, "hyena_operator")[1]  # round 48, ch03
    assert "not every one" in dispatched.finding({"aten::native_group_norm", "aten::mv", "aten::im2col"},
                                                 "resnet_block_temb")[1]  # round 48, ch02: mv per pixel


def test_a_record_says_whether_every_convolution_had_a_few_taps() -> None:
    """The short filter's three taps are told from a long filter by the weights' shapes in the record; ``conv_tbc``
    (weight laid out ``[taps, in, out]``) and a range the kernel names like a convolution never count as short."""
    import torch
    import torch.nn.functional as F

    def marked(call) -> bool:
        with dispatched.recorded() as seen:
            call()
        assert dispatched.STOPPED not in seen
        return dispatched.SHORT_CONVOLUTIONS in dispatched.sent(seen)

    x = torch.randn(1, 6, 40)
    assert marked(lambda: F.conv1d(x, torch.randn(6, 1, 3), padding=2, groups=6))
    assert marked(lambda: F.conv1d(x, torch.randn(6, 1, 4), padding=3, groups=6, dilation=2))
    assert not marked(lambda: F.conv1d(x, torch.randn(6, 1, 40), padding=39, groups=6))
    assert not marked(lambda: (F.conv1d(x, torch.randn(6, 1, 3), groups=6), F.conv1d(x, torch.randn(6, 1, 9), groups=6)))
    assert not marked(lambda: torch.conv_tbc(x.permute(2, 0, 1).contiguous(), torch.randn(3, 6, 1), torch.zeros(1)))
    assert not marked(lambda: x.sum())  # no convolution at all
    # transposed: the weight is [in, out / groups, taps] (round 47, ce01, ce03); a one-tap conv over T channels
    assert not marked(lambda: F.conv_transpose1d(x, torch.randn(6, 1, 1), groups=6))
    assert not marked(lambda: torch.convolution(x, torch.randn(6, 1, 1), None, [1], [0], [1], True, [0], 6))
    assert not marked(lambda: F.conv1d(x.repeat(1, 8, 1), torch.randn(6, 8, 1), groups=6))  # round 46, cb01

    def named_like_one():
        with torch.profiler.record_function("aten::convolution"):
            x.sum()

    assert not marked(named_like_one)


def test_round_41_honest_lookalikes_pass_through_the_plugin(pytester: pytest.Pytester) -> None:
    """Honest kernels round 41's attacker wrote against round 40's allow-lists: sequences padded by
    ``torch.nn.utils.rnn`` and by jagged ``torch.nested`` tensors, row chunks held in a nested tensor, a GELU backward
    by the normal law's cdf, and a polynomial fit by numpy at import in a fused op (bo FV-1 to FV-4, FV-7)."""
    lines = _through_the_plugin(
        pytester, ("llama3_1_8b_gqa_ragged_prefill_causal_h32_kv8_d128", "llama3_1_8b_rmsnorm_h4096",
                   "vit_base_patch16_224_gelu_backward_i3072", "whisper_large_v3_fc1_gelu_h1280_i5120"),
        "total_kv:576] or num_tokens:7] or batch_size:1] or num_tokens:5]",
        lookalikes=("ragged_prefill_pad_sequence", "ragged_prefill_nested", "rmsnorm_nested_chunks",
                    "gelu_bwd_normal_cdf", "fc1_gelu_np_polyfit"))  # fmt: skip
    got = sorted((x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines)
    assert got == sorted((name, "PASSED", None) for name in (
        "ragged_prefill_pad_sequence", "ragged_prefill_nested", "rmsnorm_nested_chunks", "gelu_bwd_normal_cdf",
        "fc1_gelu_np_polyfit")), got  # fmt: skip


def test_rounds_44_and_45_honest_lookalikes_pass_through_the_plugin(pytester: pytest.Pytester) -> None:
    """Honest kernels rounds 44 and 45's attackers wrote: FLUX's RoPE returning a ``typing.NamedTuple``, a subclass of
    a named tuple and an ``OrderedDict``, a SiLU-and-multiply's named tuple with a ``__str__``, and RMSNorms that ask
    ``torch.onnx`` whether they are exported, ``torch.distributed`` for the world size and ``hasattr`` whether their
    input is tensor-like (bx10, bx11, bx13; ca c01, c06, f01, a07)."""
    names = ("rope_named_tuple", "rmsnorm_hf_export_guards", "rmsnorm_tp_world_guard", "rope_named_tuple_subclass",
             "swiglu_named_tuple_str", "rope_ordered_dict", "rmsnorm_hasattr_tensor_like")
    lines = _through_the_plugin(
        pytester, ("flux1_dev_rope_h24_d128", "gemma_7b_rmsnorm_h3072", "llama3_2_1b_silu_and_mul_i8192",
                   "smollm2_135m_rmsnorm_h576"), "seq_len:512] or num_tokens:7]",
        lookalikes=names, extra=("--solbench-guard", "strict"))  # fmt: skip
    got = sorted((x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines)
    assert got == sorted((name, "PASSED", None) for name in names), got


def test_rounds_49_to_55_honest_lookalikes_pass_through_the_plugin(pytester: pytest.Pytester) -> None:
    """Honest kernels rounds 49 to 51's attackers wrote: a chunk table read with ``csv``, the class-body and interop
    idioms (``__hash__ = None``, ``__str__ = __repr__``, ``__match_args__``, ``__slots__`` with ``__weakref__``,
    ``hasattr`` of ``__dlpack__``, ``__array__``, ``locals()`` in a log line), and an MoE permute counting experts with
    a sparse one-hot, and a decorator whose ``functools.wraps`` names what it copies (cm k01; cp FV1 to FV8; cs FV-1,
    FV-2; round 52, cv FV-1 to FV-3)."""
    names = ("csv_config", "class_body_idioms", "moe_permute_sparse_counts", "wraps_named_attributes",
             "run_is_custom_op", "run_is_ops_handle",  # round 54, db FV-1, FV-2: the entry point an op of the author's
             "run_is_packet_with_out", "run_no_grad_over_custom_op", "run_partial_of_op", "run_wraps_over_op",
             "run_is_jit_script")  # round 55, de FV-1 to FV-5
    lines = _through_the_plugin(
        pytester, ("llama3_1_8b_rmsnorm_h4096", "deepseek_v3_moe_permute_topk8_e256_h7168", "deepseek_v3_rmsnorm_h7168"),
        "num_tokens:7]",
        lookalikes=names, extra=("--solbench-guard", "strict"))  # fmt: skip
    got = sorted((x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines)
    assert got == sorted((name, "PASSED", None) for name in names), got


def _watched_problems() -> list:
    from pathlib import Path

    from pytest_solbench.worker import execute

    found = []
    for path in sorted((Path(__file__).resolve().parents[1] / "problems").glob("*/definition.json")):
        problem = execute._problem(str(path))
        if dispatched.watched(problem.definition.op_type) and problem.workloads:
            found.append(pytest.param(problem, id=problem.definition.name))
    return found


@pytest.mark.parametrize("problem", _watched_problems())
def test_every_bundled_reference_dispatches_only_allowed_ops_or_its_own_familys(problem) -> None:
    """A reference is the honest kernel its problem's authors wrote: beyond the library op of its own family that it
    may call, everything it dispatches is on the allow-list (red-team round 23, ad15: the gated delta rule's
    triangular solves were not)."""
    import torch

    from pytest_solbench.data import inputs, kernels
    from pytest_solbench.worker import execute

    definition = problem.definition
    workload = min(problem.workloads, key=lambda w: math.prod(v for v in w.axes.values() if isinstance(v, int)))
    namespace = kernels.reference_namespace(definition)
    custom = namespace.get(definition.custom_inputs_entrypoint) if definition.custom_inputs_entrypoint else None
    try:
        args = inputs.make_inputs(definition, workload, definition.axis_values(workload.axes), seed=1, device="cpu",
                                  root=problem.blob_root, custom=custom)  # fmt: skip
    except inputs.MissingBlob:
        pytest.skip("input blob missing")
    if sum(a.numel() for a in args if isinstance(a, torch.Tensor)) > 30_000_000:
        pytest.skip("too large for the CPU machine")
    with torch.no_grad(), dispatched.recorded() as ops:
        execute._reference(definition)(*args)
    if definition.op_type in BLOCK_PARTS:  # a block of no family: its reference hands every part to the library
        assert dispatched.finding(ops, definition.op_type)[0] == "vendor-op"
        return
    families = matching_families(definition.op_type)
    own = {name for name, _ in dispatched.vendor_dispatches(ops, definition.op_type, families)}
    assert dispatched.unlisted(set(ops) - own, definition.op_type) == []
