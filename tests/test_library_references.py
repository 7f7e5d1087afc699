"""References checked against what they stand for: backward against autograd, scans against their recurrences.

Each backward reference writes the gradients out by hand (that is what a kernel author reads); here autograd on
the plain forward, in fp32, must give the same gradients within the output dtype's tolerance. The chunked SSD
scan must equal the step-by-step recurrence, and the gated delta rule must store v at key k.
"""

from __future__ import annotations

import functools
from typing import Callable

import pytest

from test_library import FILES, PROBLEMS, as_tuple, assert_close, cpu_workloads, find, load_module, make_inputs
from test_library import reference_module
from pytest_solbench.data.trace import load_problem


def _adaln(dy, x, scale):
    import torch
    import torch.nn.functional as F

    shift = torch.zeros_like(scale)
    leaves = [t.float().requires_grad_() for t in (x, shift, scale)]
    xf, sh, sc = leaves
    out = F.layer_norm(xf, (xf.shape[-1],), eps=1e-6) * (1 + sc[:, None]) + sh[:, None]
    return out, leaves


def _groupnorm(dy, x, weight):
    import torch
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_(), torch.zeros_like(weight.float())]
    leaves[2].requires_grad_()
    return F.group_norm(leaves[0], 32, leaves[1], leaves[2], eps=1e-5), leaves


def _layernorm(dy, x, weight):
    import torch
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_(), torch.zeros_like(weight.float())]
    leaves[2].requires_grad_()
    return F.layer_norm(leaves[0], (x.shape[-1],), leaves[1], leaves[2], eps=1e-6), leaves


def _patch_embed(dy, pixels):
    import torch
    import torch.nn.functional as F

    leaves = [torch.randn(768, 3, 16, 16).requires_grad_(), torch.randn(768).requires_grad_()]
    out = F.conv2d(pixels.float(), leaves[0], leaves[1], stride=16).flatten(2).transpose(1, 2)
    return out, leaves


def _attention(dy, q, k, v):
    import torch.nn.functional as F

    leaves = [t.float().requires_grad_() for t in (q, k, v)]
    return F.scaled_dot_product_attention(*leaves), leaves


def _gelu(dy, x):
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_()]
    return F.gelu(leaves[0]), leaves


def _causal_conv(dy, x, weight, bias):
    import torch.nn.functional as F

    leaves = [t.float().requires_grad_() for t in (x, weight, bias)]
    xf, w, b = leaves
    out = F.conv1d(xf, w[:, None, :], b, padding=w.shape[1] - 1, groups=xf.shape[1])[..., : xf.shape[-1]]
    return F.silu(out), leaves


def _rmsnorm(dy, x, weight, eps):
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_()]
    return F.rms_norm(leaves[0], (x.shape[-1],), leaves[1], eps=eps), leaves


def _layernorm_eps(dy, x, weight, eps):
    import torch
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_(), torch.zeros_like(weight.float())]
    leaves[2].requires_grad_()
    return F.layer_norm(leaves[0], (x.shape[-1],), leaves[1], leaves[2], eps=eps), leaves


def _linear(dy, x, weight):
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_()]
    return F.linear(*leaves), leaves


def _silu_and_mul(dy, gate_up):
    import torch.nn.functional as F

    leaves = [gate_up.float().requires_grad_()]
    gate, up = leaves[0].chunk(2, dim=-1)
    return F.silu(gate) * up, leaves


def _grouped_gemm(dy, a, b, expert_offsets):
    import torch
    import torch.nn.functional as F

    leaves = [a.float().requires_grad_(), b.float().requires_grad_()]
    bounds = expert_offsets.tolist()
    parts = [F.linear(leaves[0][bounds[e] : bounds[e + 1]], leaves[1][e]) for e in range(b.shape[0])]
    return torch.cat(parts), leaves


def _swiglu_mlp(dy, x, w_gate_up, w_down):
    import torch.nn.functional as F

    leaves = [t.float().requires_grad_() for t in (x, w_gate_up, w_down)]
    gate, up = F.linear(leaves[0], leaves[1]).chunk(2, dim=-1)
    return F.linear(F.silu(gate) * up, leaves[2]), leaves


def _causal_conv3d(dy, x, weight):
    import torch
    import torch.nn.functional as F

    leaves = [x.float().requires_grad_(), weight.float().requires_grad_(), torch.zeros(weight.shape[0])]
    leaves[2].requires_grad_()
    return F.conv3d(F.pad(leaves[0], (1, 1, 1, 1, 2, 0), mode="replicate"), leaves[1], leaves[2]), leaves


def _embedding(dy, input_ids, num_embeddings):
    import torch
    import torch.nn.functional as F

    weight = torch.zeros(num_embeddings, dy.shape[-1], requires_grad=True)
    return F.embedding(input_ids.long(), weight), [weight]


#: backward problem -> forward(grad_output, *saved inputs) giving (output, fp32 leaves in the outputs' order)
FORWARDS: dict[str, Callable] = {
    "dit_xl_2_adaln_modulate_backward_h1152": _adaln,
    "sd1_5_unet_groupnorm_backward_c320": _groupnorm,
    "vit_base_patch16_224_patch_embed_backward_c768_p16": _patch_embed,
    "vit_base_patch16_224_attention_backward_h12_d64": _attention,
    "vit_base_patch16_224_gelu_backward_i3072": _gelu,
    "dinov2_large_layernorm_backward_h1024": _layernorm,
    "mamba2_2_7b_causal_conv1d_backward_d5376_k4": _causal_conv,
    "qwen3_30b_a3b_moe_down_grouped_gemm_backward_n2048_k768": _grouped_gemm,
    "smollm2_360m_swiglu_mlp_backward_h960_i2560": _swiglu_mlp,
    "hunyuanvideo_vae_causal_conv3d_backward_c512": _causal_conv3d,
    "llama3_1_8b_embedding_backward_v128256_h4096": _embedding,
}
# The backward problems of problems/families.py, each with the eps of its own table entry.
for _entry in load_module(PROBLEMS / "families.py", "_families_for_autograd").FAMILY:
    if _entry.family == "rmsnorm_backward":
        FORWARDS[_entry.name] = functools.partial(_rmsnorm, eps=_entry.constants["eps"])
    elif _entry.family == "silu_and_mul_backward":
        FORWARDS[_entry.name] = _silu_and_mul
    elif _entry.family == "layernorm_backward":
        FORWARDS[_entry.name] = functools.partial(_layernorm_eps, eps=_entry.constants["eps"])
    elif _entry.family == "linear_backward":
        FORWARDS[_entry.name] = _linear


def test_every_backward_problem_has_an_autograd_check() -> None:
    backward = {load_problem(p).definition.name for p in FILES if load_problem(p).definition.is_backward}
    from test_library import BACKWARD_PROBLEMS  # the LLM backward problems' own autograd checks

    checked_elsewhere = {"llama3_1_8b_rmsnorm_backward_h4096", "llama3_1_8b_v_proj_linear_backward_n1024_k4096",
                         *BACKWARD_PROBLEMS}  # fmt: skip
    assert backward - checked_elsewhere == set(FORWARDS)


@pytest.mark.parametrize("name", sorted(FORWARDS))
def test_backward_reference_equals_autograd(name: str) -> None:
    torch = pytest.importorskip("torch")
    p = find(name)
    d = p.definition
    inputs = list(make_inputs(d, cpu_workloads(p)[0]).values())
    torch.manual_seed(1)
    out, leaves = FORWARDS[name](*inputs)
    out.backward(inputs[0].float())
    got = as_tuple(reference_module(d).run(*inputs))
    assert len(got) == len(leaves) == len(d.outputs)
    for spec, value, leaf in zip(d.outputs, got, leaves):
        assert_close(value, leaf.grad.to(value.dtype), spec.dtype, None, f"{name}.{spec.name}")


def test_ssd_chunk_scan_equals_the_sequential_recurrence() -> None:
    """Two chunks of a small Mamba-2 SSD against h_t = exp(dt A) h_{t-1} + dt B x, y = C h + D x, step by step."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    ref = reference_module(find("mamba2_2_7b_ssd_chunk_scan_h80_p64_n128").definition)
    torch.manual_seed(0)
    b, length, heads, p, n = 1, 2 * ref.CHUNK, 4, 8, 16
    x, dt = torch.randn(b, length, heads, p), torch.randn(b, length, heads)
    B, C = torch.randn(b, length, 2, n), torch.randn(b, length, 2, n)  # two groups of two heads
    A_log, D, dt_bias = torch.randn(heads), torch.randn(heads), torch.randn(heads)
    y, final = ref.run(x, dt, A_log, B, C, D, dt_bias)

    delta, A = F.softplus(dt + dt_bias), -torch.exp(A_log)
    Bh, Ch = B.repeat_interleave(2, dim=2), C.repeat_interleave(2, dim=2)
    h, expected = torch.zeros(b, heads, p, n), []
    for t in range(length):
        decay = torch.exp(delta[:, t] * A)[..., None, None]
        h = decay * h + (delta[:, t, :, None] * x[:, t])[..., None] * Bh[:, t, :, None, :]
        expected.append((h * Ch[:, t, :, None, :]).sum(-1) + D[:, None] * x[:, t])
    torch.testing.assert_close(y, torch.stack(expected, dim=1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(final, h, rtol=1e-4, atol=1e-4)


def test_gated_delta_rule_with_beta_one_stores_v_at_key_k() -> None:
    """The delta rule's defining property: with beta = 1 the new state maps the (normalized) key exactly to v."""
    torch = pytest.importorskip("torch")
    p = find("qwen3_next_80b_a3b_gated_delta_rule_decode_h32_d128")
    inputs = make_inputs(p.definition, cpu_workloads(p)[0])
    inputs["beta"] = torch.ones_like(inputs["beta"])
    _, new_state = reference_module(p.definition).run(*inputs.values())
    k = inputs["k"].float()
    k = (k * torch.rsqrt(k.pow(2).sum(-1, keepdim=True) + 1e-6)).repeat_interleave(2, dim=1)
    recalled = (new_state * k[..., None]).sum(dim=-2)
    torch.testing.assert_close(recalled, inputs["v"].float(), rtol=1e-3, atol=1e-3)
