"""The vendor families (``guard.families``): every bundled op type has one or a written reason, and the ops red-team
round 21 (attack-z, class A) found computing a family's op under another name are that family's, statically and in
the run-time record, while the primitives an honest kernel's call dispatches stay free."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_solbench.guard import dispatched
from pytest_solbench.guard.families import NO_FAMILY, VENDOR_FAMILIES
from pytest_solbench.guard.rules import scan_sources

ROOT = Path(__file__).resolve().parents[1]
OP_TYPES = sorted({json.loads(p.read_text())["op_type"] for p in [*(ROOT / "problems").glob("**/definition.json"),
                                                                      *(ROOT / "problems").glob("**/definitions/**/*.json")]})


def test_every_bundled_op_type_has_a_family_or_a_reason() -> None:
    """An op type that matches no family's keyword forbids nothing (patch_embed, cross_entropy, post_norm: e01, e02,
    e15): each such type is named in NO_FAMILY with why, so that a new one is a decision."""
    bare = [op for op in OP_TYPES if not any(f.matches(op) for f in VENDOR_FAMILIES)]
    assert sorted(set(bare) - set(NO_FAMILY)) == []
    assert [op for op in NO_FAMILY if any(f.matches(op) for f in VENDOR_FAMILIES)] == []
    assert sorted(set(NO_FAMILY) - set(OP_TYPES)) == []


#: op type -> aten operators (as the profiler names them) that do its whole op: the round's escapes and its appendix.
CAUGHT = {
    "rmsnorm": ["instance_norm", "batch_norm", "native_batch_norm", "_native_batch_norm_legit", "_batch_norm_impl_index",
                "_batch_norm_with_update", "_batch_norm_no_update", "cudnn_batch_norm", "miopen_batch_norm",
                "batch_norm_stats", "layer_norm", "native_layer_norm", "group_norm", "native_group_norm",
                "_fused_rms_norm", "rms_norm", "renorm", "_weight_norm", "_weight_norm_interface",
                "embedding_renorm"],
    "layernorm": ["instance_norm", "batch_norm", "native_batch_norm", "_batch_norm_impl_index", "rms_norm",
                  "_fused_rms_norm", "native_group_norm"],
    "gemm": ["_addmm_activation", "_scaled_mm_v2", "_scaled_grouped_mm_v2", "_weight_int4pack_mm",
             "_weight_int4pack_mm_for_cpu", "_weight_int8pack_mm", "_mixed_dtypes_linear", "_sparse_mm", "hspmm",
             "sspaddmm", "mkldnn_linear", "fbgemm_linear_fp16_weight", "_cslt_sparse_mm", "dot", "vdot",
             "linalg_vecdot", "linalg_matmul", "linalg_multi_dot", "_trilinear", "_dyn_quant_matmul_4bit",
             "_sparse_semi_structured_mm", "_wrapped_quantized_linear_prepacked", "conv_tbc", "embedding_bag",
             "_embedding_bag_forward_only", "_embedding_bag"],
    "softmax": ["_sparse_softmax", "_sparse_log_softmax", "_nested_tensor_softmax_with_shape", "_softmax_backward_data"],
    "conv2d": ["conv_tbc", "conv_depthwise3d", "cudnn_convolution_relu", "cudnn_convolution_add_relu",
               "cudnn_convolution_transpose", "_nnpack_spatial_convolution", "convolution_overrideable",
               "miopen_depthwise_convolution", "_mps_convolution", "_convolution_mode"],
    "patch_embed": ["convolution", "conv2d", "mkldnn_convolution"],
    "conv2d_weight_backward": ["convolution_backward"],
    "layernorm_backward": ["native_layer_norm_backward"],
    "rmsnorm_backward": ["_fused_rms_norm_backward"],
    "gelu_backward": ["gelu_backward"],
    "cross_entropy": ["cross_entropy_loss", "nll_loss_nd", "nll_loss", "_log_softmax", "logsumexp"],
    "cross_entropy_backward": ["_log_softmax_backward_data", "nll_loss_backward", "_softmax"],
    "groupnorm_backward": ["native_group_norm_backward"],
    "post_norm_residual_add": ["rms_norm", "layer_norm"],
    "adaln_modulate": ["native_layer_norm"],
    "embedding": ["embedding"],
    "embedding_backward": ["embedding_dense_backward"],
    "lm_head_softcap": ["mm"],
    "silu_and_mul": ["glu"],
}


@pytest.mark.parametrize(("op_type", "op"), [(t, o) for t, ops in CAUGHT.items() for o in ops])
def test_the_ops_that_do_the_whole_op_are_its_family_at_run_time(op_type: str, op: str) -> None:
    assert dispatched.vendor_dispatches([f"aten::{op}"], op_type), (op_type, op)


def test_another_namespace_is_judged_by_the_table_red_team_round_21_a3() -> None:
    assert dispatched.vendor_dispatches(["mkldnn::_linear_pointwise"], "gemm")
    assert not dispatched.vendor_dispatches(["mylib::_linear_pointwise"], "gemm")


@pytest.mark.parametrize(("op_type", "op"), [
    ("rmsnorm", "mean"), ("rmsnorm", "rsqrt"), ("rmsnorm", "pow"), ("rmsnorm", "linalg_vector_norm"),
    ("gemm", "sum"), ("gemm", "mul"), ("softmax", "exp"), ("softmax", "amax"), ("embedding", "index"),
    ("embedding", "index_select"), ("cross_entropy", "gather"), ("layernorm_backward", "mean"),
    ("groupnorm_silu", "native_group_norm"), ("groupnorm_silu", "silu"),  # a fused op of two families: neither
])  # fmt: skip
def test_primitives_and_a_fused_ops_parts_stay_free(op_type: str, op: str) -> None:
    assert not dispatched.vendor_dispatches([f"aten::{op}"], op_type)


def _scan(code: str, op_type: str) -> list[tuple[str, int]]:
    found = scan_sources([("k.py", code)], definition_name="x", op_type=op_type, dtypes=["bfloat16"], allowed={},
                         local_modules=frozenset(), found=[])  # fmt: skip
    return [(f.rule, f.line) for f in found]


@pytest.mark.parametrize(("code", "op_type"), [
    ("import numpy as np\ny = np.einsum('ik,nk->in', a, b)\n", "gemm"),  # e16's siblings
    ("import numpy as np\ny = np.linalg.multi_dot([a, b])\n", "gemm"),
    ("import cupy\ny = cupy.dot(a, b)\n", "gemm"),  # e16's GPU twin
    ("def f(a, b):\n    y = a.numpy().dot(b)\n", "gemm"),
    ("import torch\ny = torch.cudnn_convolution_relu(x, w, b, 1, 0, 1, 1)\n", "conv2d"),  # e18's GPU variants
    ("import torch\ny = torch.ops.aten.conv_depthwise3d(x, w, 3, None, 1, 0, 1)\n", "causal_conv3d"),
    ("import torch\ny = torch.batch_norm_stats(x, 1e-5)\n", "layernorm"),
    ("import torch.nn.functional as F\ny = F.normalize(x, dim=-1)\n", "rmsnorm"),
    ("import torch\ny = torch.logsumexp(x, -1)\n", "cross_entropy"),
    ("import torch.nn.functional as F\ny = F.embedding(i, w)\n", "embedding"),
    ("import torch.nn.functional as F\ny = F.glu(x)\n", "silu_and_mul"),
    ("import torch\ny = torch.ops.aten.native_group_norm_backward(*a)\n", "groupnorm_backward"),
    ("import torch\ny = torch.ops.mkldnn._linear_pointwise(x, w, b, 'none', [], '')\n", "gemm"),  # A3
    ("import torch\ny = torch.renorm(x * 1e4, 2, 0, 64.0)\n", "rmsnorm"),  # renormalized to sqrt(H): an RMSNorm
    ("def f(x):\n    y = x.renorm(2, 0, 64.0)\n", "rmsnorm"),
    ("import torch\ny = torch._weight_norm(x, g, 0)\n", "layernorm"),
    ("import torch.nn.functional as F\ny = F.local_response_norm(x, 8191, 2.0, 0.5, 1e-5)\n", "rmsnorm"),
    ("import torch.nn.functional as F\ny = F.embedding_bag(i, w, mode='sum', per_sample_weights=x)\n", "gemm"),
])  # fmt: skip
def test_the_round_21_calls_are_vendor_ops_by_name(code: str, op_type: str) -> None:
    assert ("vendor-op", 2) in _scan(code, op_type)


@pytest.mark.parametrize(("code", "op_type"), [
    ("import triton.language as tl\ndef k(a, b):\n    return tl.dot(a, b)\n", "gemm"),
    ("import torch.nn.functional as F\ny = F.silu(x)\n", "groupnorm_silu"),  # z09: a fused op's part
    ("import torch\ny = torch.linalg.vector_norm(x, dim=-1)\n", "rmsnorm"),  # a reduction, as mean is
    ("import torch\ny = w[ids]\nz = torch.index_select(w, 0, ids)\n", "embedding"),
])  # fmt: skip
def test_honest_parts_stay_clean(code: str, op_type: str) -> None:
    assert _scan(code, op_type) == []


#: op type -> a pattern over aten operator names (the red-team's appendix): every operator of this torch whose name
#: matches is that op type's vendor op at run time, or is named in EXEMPT with why. A torch that adds a kernel (a
#: ``_scaled_mm_v3``) fails here until the table or EXEMPT says what it is.
PATTERNS = {"gemm": r"mm|matmul|linear|dot|gemm", "rmsnorm": r"norm", "softmax": r"softmax",
            "attention": r"attention|sdp", "conv2d": r"conv", "silu_and_mul": r"silu|glu", "gelu": r"gelu",
            "cross_entropy": r"nll|cross_entropy|logsumexp", "embedding": r"embedding"}  # fmt: skip
EXEMPT = {
    # not a GEMM: "gamma", "mm" of cummax/cummin, interpolation, windows, the attention family's own ops (their
    # dot products are not the GEMM op), packing of weights (no compute)
    **dict.fromkeys(("_cummax_helper", "_cummin_helper", "cummax", "cummin", "cummaxmin_backward", "_foreach_lgamma",
                     "_foreach_lgamma_", "_nested_get_jagged_dummy", "_standard_gamma", "_standard_gamma_grad",
                     "digamma", "digamma_", "igamma", "igamma_", "igammac", "igammac_", "lgamma", "lgamma_",
                     "mvlgamma", "mvlgamma_", "polygamma", "polygamma_", "special_digamma", "special_gammainc",
                     "special_gammaincc", "special_gammaln", "special_multigammaln", "special_polygamma",
                     "hamming_window", "_upsample_bilinear2d_aa", "_upsample_bilinear2d_aa_backward",
                     "upsample_bilinear2d", "upsample_bilinear2d_backward", "upsample_linear1d",
                     "upsample_linear1d_backward", "upsample_trilinear3d", "upsample_trilinear3d_backward",
                     "fbgemm_pack_gemm_matrix_fp16", "fbgemm_pack_quantized_matrix"), "gemm"),
    # reductions (a norm of a vector, as mean is) and random numbers: primitives of a hand-written norm
    **dict.fromkeys(("_foreach_norm", "frobenius_norm", "linalg_matrix_norm", "linalg_norm", "linalg_vector_norm",
                     "native_norm", "norm", "nuclear_norm", "_philox_normal", "_philox_normal_", "log_normal",
                     "log_normal_", "normal", "normal_", "normal_functional"), "rmsnorm"),
    "_fused_sdp_choice": "attention",  # picks a backend, computes nothing
    **dict.fromkeys(("_convert_indices_from_coo_to_csr", "_convert_indices_from_csr_to_coo",
                     "_convert_weight_to_int4pack", "_convert_weight_to_int4pack_for_cpu",
                     "mkldnn_reorder_conv2d_weight", "mkldnn_reorder_conv3d_weight"), "conv2d"),  # conversions
    **dict.fromkeys(("binary_cross_entropy", "binary_cross_entropy_backward", "binary_cross_entropy_with_logits",
                     "poisson_nll_loss"), "cross_entropy"),  # other losses: no softmax over classes
    **dict.fromkeys(("cosine_embedding_loss", "hinge_embedding_loss"), "embedding"),  # losses, no table lookup
}


@pytest.mark.parametrize("op_type", sorted(PATTERNS))
def test_every_aten_op_named_like_a_family_is_in_it_or_exempt(op_type: str) -> None:
    import re

    torch = pytest.importorskip("torch")
    names = sorted({n.split(".")[0][6:] for n in torch._C._dispatch_get_all_op_names() if n.startswith("aten::")})
    left = [n for n in names if re.search(PATTERNS[op_type], n) and not n.endswith("_out")
            and not (op_type == "gemm" and re.search(r"attention|sdp", n))  # the attention family's
            and EXEMPT.get(n) != op_type and not dispatched.vendor_dispatches([f"aten::{n}"], op_type)]  # fmt: skip
    assert left == []
