"""The GPU's witness to library work (``guard.vendor_kernels``): the library's own kernel names are told from a
kernel's own, each is judged as its operator would be beside the call's record, and on a GPU a GEMM replayed out of
the record's sight fails while honest GEMM and attention kernels pass."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import judging

from pytest_solbench.guard import vendor_kernels

ROOT = Path(__file__).resolve().parents[1]

#: Library kernels as CUPTI names them through torch.profiler (demangled), and the operator each stands for.
LIBRARY = {
    "nvjet_tst_192x192_64x4_2x1_v_bz_coopB_TNT": "mm",
    "nvjet_hsh_128x256_64x4_2x1_v_bz_coopA_NNT": "mm",
    "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel"
    "__5x_cublas": "mm",
    "void cutlass::Kernel2<cutlass_80_wmma_tensorop_bf16_s161616gemm_bf16_16x16_128x2_tn_align8>(cutlass_80_wmma_"
    "tensorop_bf16_s161616gemm_bf16_16x16_128x2_tn_align8::Params)": "mm",
    "ampere_bf16_s16816gemm_bf16_128x64_ldg8_f2f_stages_64x4_tn": "mm",
    "void gemv2T_kernel_val<int, int, float, float, float, float, 128, 16, 4, 4, false, false, cublasGemvParamsEx<int, "
    "cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float const>, "
    "cublasGemvTensorStridedBatched<float>, float> >(cublasGemvParamsEx<int, cublasGemvTensorStridedBatched<float "
    "const>, cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float>, float, "
    "float)": "mm",
    "void cublasLt::splitKreduce_kernel<32, 16, int, float, __nv_bfloat16, float, __nv_bfloat16, false, false, "
    "false>(cublasLt::cublasSplitKParams<float>, float const*, __nv_bfloat16 const*, __nv_bfloat16*, float const*, "
    "float const*, __nv_bfloat16 const*, float const*, __nv_bfloat16*, void*, long, float*, int*)": "mm",
    "triton_tem_fused_mm_0": "mm",
    "triton_tem_fused_addmm_relu_1": "mm",
    "triton_tem_fused_convolution_0": "convolution",
    "triton_tem__0": "mm",  # descriptive names off (round 27, ak02g)
    "triton_tem_fused_matrix_power_0": "mm",
    "void cutlass::device_kernel<at::cuda::detail::enable_3x_kernel_for_sm9x<cutlass::gemm::kernel::GemmUniversal<"
    "cute::tuple<int, int, int, int>> > >(cutlass::gemm::kernel::GemmUniversal::Params)": "mm",
    "void cusparse::csrmm_alg2_kernel<float, int, int, float>(cusparse::KernelCoeffs<float>)": "mm",
    "void cudnn::bn_fw_tr_1C11_kernel_NCHW<__nv_bfloat16, float, 512, true, 1>(cudnnTensorStruct, __nv_bfloat16 "
    "const*, cudnnTensorStruct, __nv_bfloat16*, float const*, float const*, float, float, float*, float*)":
        "native_batch_norm",
    "void at::native::(anonymous namespace)::cunn_SpatialSoftMaxForward<float, float, float, int, at::native::"
    "(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int, int, int)": "_softmax",
    "void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8>(cutlass_80_tensorop_"
    "bf16_s16816gemm_relu_bf16_64x64_64x4_tn_align8::Params)": "mm",
    "void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 128, 64, 4, false, false, cutlass::bfloat16_t, "
    "Flash_kernel_traits<128, 128, 64, 4, cutlass::bfloat16_t> >, false, true, false, false, true, true, false, "
    "false>(pytorch_flash::Flash_fwd_params)": "_scaled_dot_product_flash_attention",
    "fmha_cutlassF_bf16_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel<cutlass::bfloat16_t, "
    "cutlass::arch::Sm80, true, 64, 64, 64, true, true>::Params)": "_scaled_dot_product_flash_attention",
    "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_3_64x64x128_4x1x1_kernel0_0":
        "_scaled_dot_product_flash_attention",
    "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_warpgroupsize1x1x1_g1_"
    "execute_segment_k_off_kernel__5x_cudnn": "convolution",
    "void cudnn::engines_precompiled::nchwToNhwcKernel<__nv_bfloat16, __nv_bfloat16, float, false, true, "
    "(cudnnKernelDataType_t)0>(cudnn::engines_precompiled::nchw2nhwc_params_t<float>, __nv_bfloat16 const*, "
    "__nv_bfloat16*)": "convolution",
    "void at::native::(anonymous namespace)::conv_depthwise2d_forward_kernel<3, c10::BFloat16, int>(at::"
    "GenericPackedTensorAccessor<c10::BFloat16 const, 4ul, at::DefaultPtrTraits, int>)": "convolution",
    "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, c10::BFloat16, float, c10::BFloat16, at::native::"
    "(anonymous namespace)::SoftMaxForwardEpilogue>(c10::BFloat16*, c10::BFloat16 const*, int)": "_softmax",
    "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, c10::BFloat16, float, c10::BFloat16, at::native::"
    "(anonymous namespace)::LogSoftMaxForwardEpilogue>(c10::BFloat16*, c10::BFloat16 const*, int)": "_log_softmax",
    "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, float, false>(int, float, "
    "c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16 const*, float*, float*, c10::BFloat16*)":
        "native_layer_norm",
}

#: A kernel's own: Triton kernels carry their Python function's name, Inductor's its generated one, a CUDA extension
#: its own C++ name (FlashAttention's sources built into an extension are ``flash::``, not torch's copy); torch's
#: elementwise, reduction, copy and indexing kernels are primitives.
OWN = ["_rmsnorm_kernel", "_silu_and_mul_kernel", "matmul_kernel", "gemm_kernel", "_attn_fwd", "_fwd_kernel",
       "flash_fwd_kernel", "conv2d_kernel", "softmax_kernel", "layer_norm_fwd", "triton_red_fused__to_copy_add_mean_"
       "mul_pow_rsqrt_0", "triton_poi_fused_mul_silu_0",
       "hopper_gemm_kernel", "ampere_fp8_gemm_kernel_persistent", "my_cublas_like_gemm",
       "void dot_kernel<__nv_bfloat16, 128>(__nv_bfloat16 const*, __nv_bfloat16 const*, float*, int)",
       "void splitKreduce_kernel<float, 4>(float const*, float*, int, int)", "cudnn_like_conv_kernel",
       "void (anonymous namespace)::softmax_warp_forward<float, float, float, 10, false>(float*, float const*, int)", "triton_per_fused_mm_like_sum_0", "void cutlass::device_kernel<my_gemm::Kernel>(my_gemm::Params)", "fused_moe_kernel",
       "void flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 64, 64, 4, false, false, cutlass::half_t> >"
       "(flash::Flash_fwd_params)",
       "void at::native::vectorized_elementwise_kernel<4, at::native::(anonymous namespace)::silu_kernel(at::"
       "TensorIteratorBase&)::{lambda()#1}::operator()() const, std::array<char*, 2ul> >(int, std::array<char*, 2ul>)",
       "void at::native::reduce_kernel<512, 1, at::native::ReduceOp<float, at::native::func_wrapper_t<float, at::"
       "native::sum_functor<float, float, float>::operator()(at::TensorIterator&)::{lambda(float, float)#1}>, unsigned "
       "int, float, 4, 4> >(at::native::ReduceOp<float, unsigned int, float, 4, 4>)",
       "void at::native::(anonymous namespace)::indexSelectLargeIndex<c10::BFloat16, long, unsigned int, 2, 2, -2, "
       "true>(at::cuda::detail::TensorInfo<c10::BFloat16, unsigned int>, long)",
       "void at::native::bitonicSortKVInPlace<-2, -1, 16, 16, float, long, at::native::GTOp<float, true>, unsigned "
       "int>(at::cuda::detail::TensorInfo<float, unsigned int>)",
       "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl_nocast<at::native::direct_copy_kernel_"
       "cuda(at::TensorIteratorBase&)::{lambda()#3}> >(int, at::native::direct_copy_kernel_cuda)"]


#: What ``benchmarks/vendor_kernel_names.py`` read on an H100: the library's kernels for GEMMs (bf16, fp16, fp32,
#: fp8, int8, grouped, split-K, GEMV, dot, with a GELU epilogue), attention (flash, memory-efficient, cuDNN; forward
#: and backward), convolutions (cuDNN, depthwise, transposed, backward), cuFFT, softmax, norms and triangular solves;
#: and, as ``own``, torch's primitive kernels (copies, random fills, gathers, sorts, scans) and Triton's and Inductor's.
H100 = json.loads((ROOT / "tests" / "vendor_kernel_names_h100.json").read_text())


@pytest.mark.parametrize("name", sorted({**LIBRARY, **H100["library"]}), ids=lambda n: n[:48])
def test_the_librarys_kernels_are_named_for_their_operator(name: str) -> None:
    assert vendor_kernels.kernel_op(name) == {**LIBRARY, **H100["library"]}[name]


@pytest.mark.parametrize("name", OWN + H100["own"], ids=lambda n: n[:48])
def test_a_kernels_own_and_torchs_primitive_kernels_are_not(name: str) -> None:
    assert vendor_kernels.kernel_op(name) is None


def _first(op: str) -> str:
    return next(name for name, stands in LIBRARY.items() if stands == op)


GEMM, FLASH, LAYER_NORM, SOFTMAX = _first("mm"), _first("_scaled_dot_product_flash_attention"), \
    _first("native_layer_norm"), _first("_softmax")  # fmt: skip


def test_library_work_the_record_lacks_is_judged_as_its_operator() -> None:
    rule, said = vendor_kernels.finding([GEMM, "_own_kernel"], ["aten::copy_", "aten::clone"], "gemm")
    assert rule == "vendor-op" and GEMM in said and "aten::mm" in said and "below torch's dispatcher" in said
    rule, said = vendor_kernels.finding([FLASH], [], "gqa_paged")
    assert rule == "vendor-op" and "pytorch_flash" in said
    assert vendor_kernels.finding([SOFTMAX], None, "rmsnorm")[0] == "vendor-op"  # outside the allow-list


def test_a_library_gemm_that_fuses_its_activation_is_witnessed_as_both() -> None:
    assert vendor_kernels.fused_activation("nvjet_sm90_tst_64x48_64x15_2x1_v_bz_gelubias_NNT") == "gelu"
    assert vendor_kernels.fused_activation("triton_tem_fused_mm_mul_silu_0") == "silu"
    assert vendor_kernels.fused_activation("nvjet_sm90_tst_48x64_64x15_2x1_v_bz_bias_TNN") is None
    assert vendor_kernels.fused_activation("_silu_and_mul_kernel") is None  # a kernel's own: not a library GEMM
    assert vendor_kernels.witnessed(["triton_tem_fused_addmm_relu_1"]) == {
        "aten::mm": "triton_tem_fused_addmm_relu_1", "aten::relu": "triton_tem_fused_addmm_relu_1"}


def test_a_part_the_family_allows_passes_and_a_fused_op_hands_one_part_not_two() -> None:
    assert vendor_kernels.finding([GEMM], [], "gqa_paged") is None  # a GEMM inside attention is a part
    assert vendor_kernels.finding([GEMM, SOFTMAX], [], "gqa_paged") is None
    assert vendor_kernels.finding([GEMM], [], "linear_gelu") is None  # one part of the fused op
    rule, said = vendor_kernels.finding([GEMM, LAYER_NORM], [], "layernorm_linear_gelu")
    assert rule == "vendor-op" and "one part" in said
    # one library GEMM with the activation fused in (cuBLASLt's GELU epilogue, as named on an H100): two parts
    rule, said = vendor_kernels.finding(["nvjet_sm90_tst_64x48_64x15_2x1_v_bz_gelubias_NNT"], [], "linear_gelu")
    assert rule == "vendor-op" and "gelubias" in said
    assert vendor_kernels.finding(["nvjet_sm90_tst_48x64_64x15_2x1_v_bz_bias_TNN"], [], "linear_gelu") is None
    # a MoE layer's expert GEMM with its SiLU fused by Inductor's template: a part and an elementwise op (aj FV-3)
    assert vendor_kernels.finding(["triton_tem_fused_mm_mul_silu_0"], [], "moe_fused_fp8_block_scale") is None
    # the record's own library op of one part, the library's kernels of another below it: two parts
    assert vendor_kernels.finding([GEMM], ["aten::native_layer_norm"], "layernorm_linear_gelu")[0] == "vendor-op"


def test_library_work_a_recorded_operator_accounts_for_is_left_to_the_records_verdict() -> None:
    assert vendor_kernels.finding([GEMM], ["aten::addmm"], "linear_gelu") is None
    assert vendor_kernels.finding([GEMM, SOFTMAX], ["aten::_scaled_dot_product_efficient_attention"], "gqa_paged") \
        is None  # the record itself fails that op (judge_ops), with its own words
    assert vendor_kernels.finding([LAYER_NORM], ["aten::native_layer_norm"], "layernorm_linear_gelu") is None
    # a composite the record holds does no work itself (its callees are recorded): it accounts for nothing
    assert vendor_kernels.finding([GEMM], ["aten::native_layer_norm", "aten::matmul"], "layernorm_linear_gelu")[0] \
        == "vendor-op"
    # a primitive in the record accounts for nothing: its kernels are not the library's
    assert vendor_kernels.finding([GEMM], ["aten::mul", "aten::sum"], "gemm")[0] == "vendor-op"
    # nor does a kernel's own custom op (a namespace torch does not register)
    assert vendor_kernels.finding([GEMM], ["mine::matmul"], "gemm")[0] == "vendor-op"


def test_no_names_no_library_kernels_or_no_family_is_no_finding() -> None:
    assert vendor_kernels.finding(None, ["aten::add"], "gemm") is None
    assert vendor_kernels.finding(["_rmsnorm_kernel"], [], "rmsnorm") is None
    assert vendor_kernels.finding([GEMM], [], "fp8_group_quant") is None


def _judged(kernel: object, names: list[str] | None, op_type: str = "gemm") -> str | None:
    from pytest_solbench.judge.kernel import Verdict

    try:
        kernel.judge_kernels(names, ["aten::copy_"], op_type)
    except Verdict as verdict:
        return verdict.outcome.log
    return None


def test_the_judge_holds_the_witness_where_it_holds_the_record() -> None:
    assert "nvjet_tst" in _judged(judging(), [GEMM])
    assert _judged(judging(), None) is None  # no kernel names asked for (CPU, or an unprofiled round)
    assert _judged(judging(guard=False), [GEMM]) is None
    assert _judged(judging(allowed=("vendor-op",)), [GEMM]) is None
    assert _judged(judging(reference=True), [GEMM]) is None
    assert _judged(judging(), [GEMM], "fp8_group_quant") is None


def test_the_timed_calls_kernels_are_judged_beside_the_record_of_the_checked_call_after_them() -> None:
    """Timed calls have no operator record, and only one input set's kernels are compared with a checked call's: the
    kernels of every set are held to the record of the checked calls after them (red-team round 56, dg)."""
    import contextlib
    from types import SimpleNamespace

    from pytest_solbench.judge import referee
    from pytest_solbench.judge.kernel import Verdict

    def after(ops: list[str]) -> object:
        kernel = judging()
        kernel.request.device = "cuda"
        kernel.key = "k"
        kernel.arena = lambda: contextlib.nullcontext(SimpleNamespace(share=None))
        kernel.ask = lambda what, payload, check: {"kernel_s": 0.0, "calls": [], "ops": ops}
        return kernel

    definition, workload = SimpleNamespace(axis_values=lambda axes: {}, op_type="gemm"), SimpleNamespace(axes={})
    own = [["my_gemm_kernel"], ["my_gemm_kernel"]]
    assert referee.checked_calls(after(["aten::copy_"]), definition, workload, [], {}, timed_names=own) == (None, [])
    with pytest.raises(Verdict) as raised:  # set 2's calls ran cuBLAS, which the record does not account for
        referee.checked_calls(after(["aten::copy_"]), definition, workload, [], {}, timed_names=[own[0], [GEMM]])
    assert raised.value.outcome.rule == "vendor-op" and "nvjet_tst" in raised.value.outcome.log


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET", "0") in ("", "0")


def test_on_the_gpu_a_gemm_below_the_record_fails_and_honest_kernels_pass(pytester: pytest.Pytester) -> None:
    """A cuBLAS GEMM entered below the dispatcher at call time (``redispatch``, its static rule allowed in writing)
    fails by the witness; one captured into a CUDA graph at import fails by the import's record; a Triton GEMM and an
    attention kernel whose GEMMs are torch's (a part) pass with the guard on."""
    if not _cuda():
        pytest.skip("the witness reads CUPTI's kernel names: a CUDA GPU with TRITON_INTERPRET unset")
    kernels = pytester.path / "kernels"
    kernels.mkdir()
    for name in ("hack_r26_redispatch_gemm", "hack_r26_graph_replay_gemm"):
        shutil.copy(ROOT / "tests" / "redteam" / f"{name}.py", kernels)
    for name in ("triton_qkv_gemm", "torch_gqa_decode"):
        shutil.copy(ROOT / "examples" / f"{name}.py", kernels)
    problems = [ROOT / "problems" / p / "definition.json" for p in (
        "llama3_1_8b_qkv_proj_n6144_k4096", "llama3_1_8b_gqa_paged_decode_h32_kv8_d128_ps16")]
    result = pytester.runpytest_subprocess(
        *map(str, problems), "--solbench", "--kernel-dir", str(kernels), "-p", "no:randomly", "-p", "no:cacheprovider",
        "--solbench-max-time", "0.3", "--solbench-json", "t.jsonl", "-k", "num_tokens:64] or num_kv_tokens:3000-",
        timeout=1800,
    )  # fmt: skip
    traces = pytester.path / "t.jsonl"
    assert traces.exists(), result.stdout.str()[-3000:] + result.stderr.str()[-2000:]
    lines = [json.loads(x) for x in traces.read_text().splitlines()]
    got = {(x["solution"], x["solbench"]["status"], x["solbench"].get("rule")) for x in lines}
    assert got == {("hack_r26_redispatch_gemm", "REWARD_HACK", "vendor-op"),
                   ("hack_r26_graph_replay_gemm", "REWARD_HACK", "vendor-op"), ("triton_qkv_gemm", "PASSED", None),
                   ("torch_gqa_decode", "PASSED", None)}, (got, result.stdout.str()[-3000:])  # fmt: skip
    said = {x["solution"]: x["evaluation"]["log"] for x in lines}
    assert "the GPU ran" in said["hack_r26_redispatch_gemm"], said
    assert "while the kernel's module was imported" in said["hack_r26_graph_replay_gemm"], said


def test_a_library_kernel_launched_between_calls_reaches_the_witness() -> None:
    """Red-team round 69, et03 (modelled): kernels inside no call's GPU range were dropped, so a cuBLAS GEMM a
    finalizer launched in the harness's collection between two checked calls was judged nowhere. The harness's own
    kernels there (poisoning, copies) stay out; a library's join the last answered call's kernels."""
    from pytest_solbench.guard.vendor_kernels import add_strays
    from pytest_solbench.measure.cupti import kernel_sets

    spans = {0: (100, 200), 1: (300, 400)}
    kernels = [(110, 150, "my_rms_kernel"), (310, 390, "my_rms_kernel"), (220, 240, GEMM),
               (250, 260, "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>>")]
    sets, outside = kernel_sets(spans, kernels, 2)
    assert sets == [frozenset({"my_rms_kernel"})] * 2 and GEMM in outside and len(outside) == 2
    replies = [{"outputs": None, "trip": None, "kernel_names": sorted(s)} for s in sets]
    add_strays(replies, outside)
    assert replies[0]["kernel_names"] == ["my_rms_kernel"]
    assert replies[1]["kernel_names"] == sorted(["my_rms_kernel", GEMM])  # the fill stays out
    add_strays([], outside)  # no call answered (the first raised): nothing to add to
