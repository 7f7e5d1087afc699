"""Counted FLOPs and bytes against hand formulas, one operation at a time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from pytest_solbench.sol import bound as sol  # noqa: E402
from pytest_solbench.data import trace
from pytest_solbench.sol.flops import causal_pairs, count_flops  # noqa: E402

BF16, FP16, FP32, FP8 = "bfloat16", "float16", "float32", "float8_e4m3fn"


def tensor(dtype: str, *shape: str | int) -> dict:
    return {"dtype": dtype, "shape": [str(d) for d in shape]}


def definition(inputs: dict, outputs: dict, reference: str, const: dict | None = None, var=(), sol_=None):
    axes = {name: {"type": "const", "value": value} for name, value in (const or {}).items()}
    axes.update({name: {"type": "var"} for name in var})
    data = {"name": "t", "op_type": "t", "axes": axes, "inputs": inputs, "outputs": outputs,
            "reference": textwrap.dedent(reference)}  # fmt: skip
    if sol_ is not None:
        data["sol"] = sol_
    return trace.parse_definition(data, Path("x.json"))


def work(d, count_args=None, **var):
    return sol.work_for(d, d.axis_values(var), count_args=count_args)


def meta(dtype, *shape, grad=False):
    return torch.empty(shape, dtype=dtype, device="meta", requires_grad=grad)


# ---------------------------------------------------------------- GEMM family


def test_gemm():
    d = definition({"A": tensor(BF16, "M", "K"), "B": tensor(BF16, "N", "K")}, {"C": tensor(BF16, "M", "N")},
                   "def run(A, B):\n    return A @ B.T\n", {"N": 256, "K": 64}, ["M"])  # fmt: skip
    w = work(d, M=96)
    assert w.flops_by_dtype == {BF16: 2 * 96 * 256 * 64}
    assert w.bytes_moved == 2 * (96 * 64 + 256 * 64 + 96 * 256)
    assert w.source == "flops-meta+bytes-io"


def test_batched_gemm():
    d = definition({"A": tensor(FP16, "B", "M", "K"), "W": tensor(FP16, "B", "K", "N")},
                   {"C": tensor(FP16, "B", "M", "N")}, "import torch\ndef run(A, W):\n    return torch.bmm(A, W)\n",
                   {"M": 32, "K": 48, "N": 40}, ["B"])  # fmt: skip
    w = work(d, B=6)
    assert w.flops_by_dtype == {FP16: 2 * 6 * 32 * 48 * 40}
    assert w.bytes_moved == 2 * 6 * (32 * 48 + 48 * 40 + 32 * 40)


def test_linear_with_bias():
    d = definition({"x": tensor(BF16, "T", "K"), "w": tensor(BF16, "N", "K"), "b": tensor(BF16, "N")},
                   {"y": tensor(BF16, "T", "N")},
                   "import torch.nn.functional as F\ndef run(x, w, b):\n    return F.linear(x, w, b)\n",
                   {"K": 128, "N": 64}, ["T"])  # fmt: skip
    w = work(d, T=10)
    assert w.flops_by_dtype == {BF16: 2 * 10 * 64 * 128}  # the bias add is element-wise: free
    assert w.bytes_moved == 2 * (10 * 128 + 64 * 128 + 64 + 10 * 64)


def test_einsum():
    d = definition({"q": tensor(FP16, "B", "H", "S", "D"), "k": tensor(FP16, "B", "H", "S", "D")},
                   {"s": tensor(FP16, "B", "H", "S", "S")},
                   "import torch\ndef run(q, k):\n    return torch.einsum('bhqd,bhkd->bhqk', q, k)\n",
                   {"H": 4, "D": 32}, ["B", "S"])  # fmt: skip
    w = work(d, B=2, S=24)
    assert w.flops_by_dtype == {FP16: 2 * 2 * 4 * 24 * 24 * 32}
    assert w.bytes_moved == 2 * (2 * 2 * 4 * 24 * 32 + 2 * 4 * 24 * 24)


def test_fp32_gemm_counts_as_float32_and_an_upcast_keeps_the_input_precision():
    a, b = meta(torch.float32, 16, 8), meta(torch.float32, 8, 4)
    assert count_flops(torch.mm, [a, b]) == {FP32: 2 * 16 * 8 * 4}
    a, b = meta(torch.bfloat16, 16, 8), meta(torch.bfloat16, 8, 4)
    assert count_flops(lambda a, b: (a.float() * 2) @ b.to(torch.float64).float(), [a, b]) == {BF16: 2 * 16 * 8 * 4}


def test_mixed_operands_count_at_the_lower_precision():
    a, b = meta(torch.float8_e4m3fn, 16, 8), meta(torch.bfloat16, 8, 4)
    assert count_flops(lambda a, b: a.to(torch.bfloat16) @ b, [a, b]) == {FP8: 2 * 16 * 8 * 4}


def test_precision_resets_at_each_matmul_output():
    a, w1, w2 = meta(torch.float8_e4m3fn, 16, 8), meta(torch.float8_e4m3fn, 8, 4), meta(torch.bfloat16, 4, 2)
    counted = count_flops(lambda a, w1, w2: (a.float() @ w1.float()).to(torch.bfloat16) @ w2, [a, w1, w2])
    assert counted == {FP8: 2 * 16 * 8 * 4, BF16: 2 * 16 * 4 * 2}


def test_grouped_mm_counts_each_group_once():
    if not hasattr(torch, "_grouped_mm"):
        pytest.skip("this torch has no _grouped_mm")
    x, w = meta(torch.bfloat16, 64, 32), meta(torch.bfloat16, 4, 32, 16)
    offs = torch.empty(4, dtype=torch.int32, device="meta")
    assert count_flops(torch._grouped_mm, [x, w], {"offs": offs}) == {BF16: 2 * 64 * 32 * 16}
    xs = meta(torch.bfloat16, 4, 8, 32)
    assert count_flops(torch._grouped_mm, [xs, w]) == {BF16: 2 * 4 * 8 * 32 * 16}


def test_real_cpu_tensors_and_fake_tensors_count_like_meta_ones():
    from torch._subclasses.fake_tensor import FakeTensorMode

    a, b = torch.randn(12, 5), torch.randn(5, 7)
    assert count_flops(torch.mm, [a, b]) == {FP32: 2 * 12 * 5 * 7}
    with FakeTensorMode():
        fa, fb = torch.empty(12, 5, dtype=torch.float16), torch.empty(7, 5, dtype=torch.float16)
        assert count_flops(F.linear, [fa, fb]) == {FP16: 2 * 12 * 5 * 7}


# ---------------------------------------------------------------- convolutions


def test_conv2d_forward():
    d = definition({"x": tensor(BF16, "N", 16, 20, 20), "w": tensor(BF16, 32, 16, 3, 3)},
                   {"y": tensor(BF16, "N", 32, 10, 10)},
                   "import torch.nn.functional as F\ndef run(x, w):\n    return F.conv2d(x, w, stride=2, padding=1)\n",
                   var=["N"])  # fmt: skip
    w = work(d, N=3)
    assert w.flops_by_dtype == {BF16: 2 * 3 * 32 * 10 * 10 * 16 * 3 * 3}
    assert w.bytes_moved == 2 * (3 * 16 * 400 + 32 * 16 * 9 + 3 * 32 * 100)


def test_conv2d_backward_through_autograd_counts_grad_input_and_grad_weight():
    reference = """
    import torch, torch.nn.functional as F
    def run(x, w, dy):
        x = x.detach().requires_grad_()
        w = w.detach().requires_grad_()
        y = F.conv2d(x, w, padding=1)
        return torch.autograd.grad(y, (x, w), dy)
    """
    d = definition({"x": tensor(FP16, "N", 8, 12, 12), "w": tensor(FP16, 4, 8, 3, 3),
                    "dy": tensor(FP16, "N", 4, 12, 12)},
                   {"dx": tensor(FP16, "N", 8, 12, 12), "dw": tensor(FP16, 4, 8, 3, 3)},
                   reference, var=["N"])  # fmt: skip
    w = work(d, N=2)
    forward = 2 * 2 * 4 * 12 * 12 * 8 * 9
    assert w.flops_by_dtype == {FP16: 2 * forward}  # no forward pass is counted twice: autograd.grad re-uses y
    assert w.bytes_moved == 2 * (2 * 8 * 144 + 4 * 8 * 9 + 2 * 4 * 144 + 2 * 8 * 144 + 4 * 8 * 9)


def test_conv_backward_op_counts_only_the_gradients_asked_for():
    g, x, w = meta(torch.float32, 2, 4, 6, 6), meta(torch.float32, 2, 3, 8, 8), meta(torch.float32, 4, 3, 3, 3)
    call = torch.ops.aten.convolution_backward
    forward = 2 * 2 * 4 * 36 * 3 * 9
    for mask, factor in [([True, True, False], 2), ([False, True, True], 1), ([True, False, False], 1)]:
        counted = count_flops(call, [g, x, w, [4], [1, 1], [0, 0], [1, 1], False, [0, 0], 1, mask])
        assert counted == {FP32: factor * forward}


def test_depthwise_and_grouped_conv1d():
    d = definition({"x": tensor(BF16, "B", 64, "L"), "w": tensor(BF16, 64, 1, 7)}, {"y": tensor(BF16, "B", 64, "L")},
                   "import torch.nn.functional as F\ndef run(x, w):\n    return F.conv1d(x, w, padding=3, groups=64)\n",
                   var=["B", "L"])  # fmt: skip
    w = work(d, B=2, L=50)
    assert w.flops_by_dtype == {BF16: 2 * 2 * 64 * 50 * 7}
    assert w.bytes_moved == 2 * (2 * 64 * 50 * 2 + 64 * 7)
    x, w = meta(torch.float16, 2, 16, 30), meta(torch.float16, 8, 4, 5)
    grouped = count_flops(lambda x, w: F.conv1d(x, w, groups=4), [x, w])
    assert grouped == {FP16: 2 * 2 * 8 * 26 * 4 * 5}


def test_transposed_conv2d():
    d = definition({"x": tensor(FP16, "N", 8, 7, 7), "w": tensor(FP16, 8, 6, 4, 4)},
                   {"y": tensor(FP16, "N", 6, 14, 14)},
                   "import torch.nn.functional as F\n"
                   "def run(x, w):\n    return F.conv_transpose2d(x, w, stride=2, padding=1)\n", var=["N"])  # fmt: skip
    w = work(d, N=2)
    assert w.flops_by_dtype == {FP16: 2 * 2 * 8 * 7 * 7 * 6 * 4 * 4}  # every input pixel meets the whole kernel
    assert w.bytes_moved == 2 * (2 * 8 * 49 + 8 * 6 * 16 + 2 * 6 * 196)


# ---------------------------------------------------------------- attention


SDPA = "import torch.nn.functional as F\ndef run(q, k, v):\n    return F.scaled_dot_product_attention(q, k, v, {})\n"


def test_causal_sdpa_counts_the_kept_half():
    d = definition({n: tensor(BF16, "B", 4, "S", 64) for n in "qkv"}, {"o": tensor(BF16, "B", 4, "S", 64)},
                   SDPA.format("is_causal=True"), var=["B", "S"])  # fmt: skip
    w = work(d, B=2, S=100)
    assert causal_pairs(100, 100) == 100 * 101 // 2
    assert w.flops_by_dtype == {BF16: 2 * 4 * (100 * 101 // 2) * 2 * (64 + 64)}
    assert w.bytes_moved == 4 * 2 * (2 * 4 * 100 * 64)


def test_full_sdpa_with_grouped_kv_heads_and_a_distinct_value_width():
    d = definition({"q": tensor(FP16, "B", 8, "Sq", 64), "k": tensor(FP16, "B", 2, "Sk", 64),
                    "v": tensor(FP16, "B", 2, "Sk", 32)}, {"o": tensor(FP16, "B", 8, "Sq", 32)},
                   SDPA.format("enable_gqa=True"), var=["B", "Sq", "Sk"])  # fmt: skip
    w = work(d, B=3, Sq=16, Sk=40)
    assert w.flops_by_dtype == {FP16: 2 * 3 * 8 * 16 * 40 * (64 + 32)}
    assert w.bytes_moved == 2 * 3 * (8 * 16 * 64 + 2 * 40 * 64 + 2 * 40 * 32 + 8 * 16 * 32)


def test_sdpa_backward_is_two_and_a_half_forwards():
    q, k, v = (meta(torch.bfloat16, 2, 4, 32, 64, grad=True) for _ in range(3))
    counted = count_flops(lambda q, k, v: F.scaled_dot_product_attention(q, k, v).sum().backward(), [q, k, v])
    forward = 2 * 2 * 4 * 32 * 32 * 128
    assert counted == {BF16: forward + 2.5 * forward}


def test_aten_flash_attention_op_counts_causal_and_backward():
    q = torch.randn(1, 2, 8, 16)
    out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, q, q, 0.0, True)
    assert count_flops(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu, [q, q, q, 0.0, True]) == {
        FP32: 2 * 2 * causal_pairs(8, 8) * 32
    }
    backward = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward
    assert count_flops(backward, [out, q, q, q, out, lse, 0.0, False]) == {FP32: 2 * 2 * 64 * (3 * 16 + 2 * 16)}


PAGED_DECODE = """
import torch
def run(q, k_cache, v_cache, block_table, seq_lens, sm_scale):
    B, Hq, D = q.shape
    page, Hk = k_cache.shape[1], k_cache.shape[2]
    out = torch.empty_like(q)
    for b in range(B):
        L = int(seq_lens[b])
        pages = block_table[b, : (L + page - 1) // page].long()
        k = k_cache[pages].reshape(-1, Hk, D)[:L].repeat_interleave(Hq // Hk, dim=1)
        v = v_cache[pages].reshape(-1, Hk, D)[:L].repeat_interleave(Hq // Hk, dim=1)
        s = torch.einsum("hd,lhd->hl", q[b].float(), k.float()) * sm_scale
        out[b] = torch.einsum("hl,lhd->hd", torch.softmax(s, -1), v.float()).to(q.dtype)
    return out
"""


def test_gqa_decode_over_a_paged_cache_needs_the_real_argument_fallback():
    spec = {"q": tensor(BF16, "B", 8, 32),
            "k_cache": tensor(BF16, "P", 4, 2, 32), "v_cache": tensor(BF16, "P", 4, 2, 32),
            "block_table": tensor("int32", "B", "maxp"), "seq_lens": tensor("int32", "B"),
            "sm_scale": {"dtype": "float32", "shape": None}}  # fmt: skip
    touched = "2 * B * 8 * 32 * 2 + 2 * kv_tokens * 2 * 32 * 2 + 4 * B * maxp + 4 * B"
    d = definition(spec, {"o": tensor(BF16, "B", 8, 32)}, PAGED_DECODE, {"P": 12, "maxp": 4}, ["B", "kv_tokens"],
                   sol_={"bytes": touched})  # fmt: skip
    lens = [5, 16, 9]

    def real_args():
        table = torch.randperm(12, dtype=torch.int32)[:12].reshape(3, 4)
        cache = [torch.randn(12, 4, 2, 32, dtype=torch.bfloat16) for _ in range(2)]
        return [torch.randn(3, 8, 32, dtype=torch.bfloat16), *cache, table, torch.tensor(lens, dtype=torch.int32), 0.2]

    with pytest.raises(sol.SolError, match="meta tensors.*add a 'sol' formula"):
        work(d, B=3, kv_tokens=sum(lens))
    w = work(d, count_args=real_args, B=3, kv_tokens=sum(lens))
    assert w.flops_by_dtype == {BF16: sum(2 * 8 * n * (32 + 32) for n in lens)}
    assert w.bytes_moved == 2 * 3 * 8 * 32 * 2 + 2 * 30 * 2 * 32 * 2 + 4 * 3 * 4 + 4 * 3  # what must be touched
    assert w.source == "flops-real+bytes-formula"
    whole_cache = sol.io_bytes(d, d.axis_values({"B": 3, "kv_tokens": 30}))
    assert whole_cache == 2 * (3 * 8 * 32 * 2 + 2 * 12 * 4 * 2 * 32) + 4 * 12 + 4 * 3  # the scalar is free


# ---------------------------------------------------------------- quantized GEMMs


def test_fp8_gemm_with_scales():
    reference = """
    import torch
    def run(a, b, scale_a, scale_b):
        return torch._scaled_mm(a, b.t(), scale_a, scale_b, out_dtype=torch.bfloat16)
    """
    d = definition({"a": tensor(FP8, "M", "K"), "b": tensor(FP8, "N", "K"), "scale_a": tensor(FP32),
                    "scale_b": tensor(FP32)},
                   {"c": tensor(BF16, "M", "N")}, reference, {"N": 64, "K": 128}, ["M"])  # fmt: skip
    w = work(d, M=32)
    assert w.flops_by_dtype == {FP8: 2 * 32 * 64 * 128}
    assert w.bytes_moved == 32 * 128 + 64 * 128 + 4 + 4 + 2 * 32 * 64  # 0-d scale tensors are read too


def test_fp8_block_scaled_gemm_that_dequantizes_counts_as_fp8():
    reference = """
    import torch
    def run(a, b, sa, sb):
        M, K = a.shape
        A = (a.float().view(M, K // 128, 128) * sa[:, :, None]).view(M, K)
        B = (b.float().view(-1, 128, K // 128, 128) * sb[:, None, :, None]).view(-1, K)
        return (A @ B.T).to(torch.bfloat16)
    """
    d = definition({"a": tensor(FP8, "M", "K"), "b": tensor(FP8, "N", "K"), "sa": tensor(FP32, "M", "kb"),
                    "sb": tensor(FP32, "nb", "kb")}, {"c": tensor(BF16, "M", "N")}, reference,
                   {"N": 256, "K": 384, "kb": 3, "nb": 2}, ["M"])  # fmt: skip
    w = work(d, M=8)
    assert w.flops_by_dtype == {FP8: 2 * 8 * 256 * 384}
    assert w.bytes_moved == 8 * 384 + 256 * 384 + 4 * (8 * 3 + 2 * 3) + 2 * 8 * 256


NVFP4 = """
import torch
def unpack(x):
    lut = torch.tensor([0, .5, 1, 1.5, 2, 3, 4, 6, 0, -.5, -1, -1.5, -2, -3, -4, -6], device=x.device)
    u = x.view(torch.uint8)
    codes = torch.stack([u & 0xF, u >> 4], dim=-1).reshape(u.shape[0], -1)
    return lut[codes.long()]
def run(a, b, a_scale, b_scale, alpha):
    A = (unpack(a).view(a.shape[0], -1, 16) * a_scale.float()[:, :, None]).flatten(1)
    B = (unpack(b).view(b.shape[0], -1, 16) * b_scale.float()[:, :, None]).flatten(1)
    return (A @ B.T * alpha).to(torch.bfloat16)
"""


@pytest.mark.parametrize("with_formula", [True, False])
def test_nvfp4_gemm_with_block_scales(with_formula):
    spec = {"a": tensor("float4_e2m1", "M", "K"), "b": tensor("float4_e2m1", "N", "K"),
            "a_scale": tensor("float8_e4m3fn", "M", "kb"), "b_scale": tensor("float8_e4m3fn", "N", "kb"),
            "alpha": tensor(FP32)}  # fmt: skip
    formula = {"flops": {"float4_e2m1": "2 * M * N * K"}} if with_formula else None
    d = definition(spec, {"c": tensor(BF16, "M", "N")}, NVFP4, {"N": 64, "K": 256, "kb": 16}, ["M"], sol_=formula)
    w = work(d, M=16)
    assert w.flops_by_dtype == {"float4_e2m1": 2 * 16 * 64 * 256}  # counted: the unpacked values stay fp4
    assert w.bytes_moved == 16 * 256 / 2 + 64 * 256 / 2 + 16 * 16 + 64 * 16 + 4 + 2 * 16 * 64
    assert w.source == ("flops-formula+bytes-io" if with_formula else "flops-meta+bytes-io")


def test_fp4_inputs_are_packed_two_per_element_on_meta():
    d = definition({"a": tensor("float4_e2m1", "M", 64)}, {"c": tensor(BF16, "M", 64)}, "def run(a):\n    return a\n",
                   var=["M"])  # fmt: skip
    (a,) = sol.meta_args(d, {"M": 4})
    assert a.dtype == torch.float4_e2m1fn_x2 and tuple(a.shape) == (4, 32) and a.device.type == "meta"


# ---------------------------------------------------------------- MoE and memory-bound ops


MOE = """
import torch, torch.nn.functional as F
def run(x, router_w, w1, w2):
    probs = torch.softmax((x @ router_w.T).float(), dim=-1)
    top_p, top_i = probs.topk(2, dim=-1)
    top_p = top_p / top_p.sum(-1, keepdim=True)
    out = torch.zeros(x.shape, dtype=torch.float32)
    for e in range(w1.shape[0]):
        tok, slot = (top_i == e).nonzero(as_tuple=True)
        if tok.numel() == 0:
            continue
        gate, up = (x[tok] @ w1[e].T).chunk(2, dim=-1)
        y = (F.silu(gate) * up) @ w2[e].T
        out.index_add_(0, tok, y.float() * top_p[tok, slot, None])
    return out.to(x.dtype)
"""


def test_moe_layer_counts_the_routed_tokens_only():
    T, H, I, E = 24, 32, 16, 6
    spec = {"x": tensor(BF16, "T", "H"), "router_w": tensor(BF16, "E", "H"), "w1": tensor(BF16, "E", "I2", "H"),
            "w2": tensor(BF16, "E", "H", "I")}  # fmt: skip
    d = definition(spec, {"y": tensor(BF16, "T", "H")}, MOE, {"H": H, "I": I, "I2": 2 * I, "E": E}, ["T"])

    def real_args():
        return [torch.randn(T, H, dtype=torch.bfloat16)] + [
            torch.randn(*shape, dtype=torch.bfloat16) for shape in [(E, H), (E, 2 * I, H), (E, H, I)]
        ]

    w = work(d, count_args=real_args, T=T)
    routed = T * 2  # top-2: every token visits two experts, however the router spreads them
    assert w.flops_by_dtype == {BF16: 2 * T * H * E + 2 * routed * H * 2 * I + 2 * routed * I * H}
    assert w.bytes_moved == 2 * (T * H + E * H + E * 2 * I * H + E * H * I + T * H)


def test_rmsnorm_is_free_compute_and_moves_input_weight_and_output():
    reference = """
    import torch
    def run(x, w, eps):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps) * w.float()).to(x.dtype)
    """
    d = definition({"x": tensor(BF16, "T", "H"), "w": tensor(BF16, "H"), "eps": {"dtype": FP32, "shape": None}},
                   {"y": tensor(BF16, "T", "H")}, reference, {"H": 4096}, ["T"])  # fmt: skip
    w = work(d, T=7)
    assert w.flops_by_dtype == {}
    assert w.bytes_moved == 2 * 7 * 4096 + 2 * 4096 + 2 * 7 * 4096


def test_softmax_is_free_compute():
    d = definition({"x": tensor(FP32, "B", "V")}, {"y": tensor(FP32, "B", "V")},
                   "import torch\ndef run(x):\n    return torch.softmax(x, dim=-1)\n", {"V": 1000}, ["B"])  # fmt: skip
    w = work(d, B=3)
    assert w.flops_by_dtype == {} and w.bytes_moved == 2 * 4 * 3 * 1000


# ---------------------------------------------------------------- what counts: work that feeds the result


def test_a_backward_built_on_autograd_does_not_pay_for_its_forward():
    def linear_backward(x, w, dy):
        x, w = x.detach().requires_grad_(), w.detach().requires_grad_()
        return torch.autograd.grad(x @ w.T, (x, w), dy)

    x, w, dy = meta(torch.bfloat16, 64, 32), meta(torch.bfloat16, 16, 32), meta(torch.bfloat16, 64, 16)
    assert count_flops(linear_backward, [x, w, dy]) == {BF16: 2 * (2 * 64 * 32 * 16)}  # dx and dw, no forward

    def attention_backward(q, k, v, do):
        q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
        return torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v), do)

    q = meta(torch.float16, 2, 4, 32, 64)
    assert count_flops(attention_backward, [q, q, q, q]) == {FP16: 2 * 4 * causal_pairs(32, 32) * 2 * (3 * 64 + 2 * 64)}


def test_work_that_feeds_nothing_returned_is_not_counted_but_writes_into_arguments_are():
    a, b = meta(torch.float16, 8, 8), meta(torch.float16, 8, 8)
    assert count_flops(lambda a, b: (a @ b, a)[1], [a, b]) == {}  # the product is thrown away

    def destination_passing(a, b, out):
        out.copy_(a @ b)

    assert count_flops(destination_passing, [a, b, meta(torch.float16, 8, 8)]) == {FP16: 2 * 8**3}
    assert count_flops(lambda a, b: [a @ b] and None, [a, b]) == {FP16: 2 * 8**3}  # nothing to trace back: all count


def test_dead_work_stays_dead_when_its_freed_address_is_reused() -> None:
    """A dead GEMM's output is freed and its address reused by a constant made outside the mode: that constant
    feeding the result must not make the dead GEMMs count (they did, 20 of them, before results got identities)."""
    torch = pytest.importorskip("torch")

    def fn(a, b):
        for _ in range(20):
            a @ b  # computed, never used
        return a[:1, :4] * torch.tensor([1.0, 2.0, 3.0, 4.0])

    assert count_flops(fn, [torch.randn(64, 64), torch.randn(64, 64)]) == {}
