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
