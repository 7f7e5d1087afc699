"""FP8 causal prefill attention: e4m3 q, k, v with per-tensor descales, dequantized, softmax in fp32, bf16 out.

The attention itself is torch's scaled_dot_product_attention with is_causal, so the counted FLOPs are exactly the
causal triangle (the FLOP counter knows its mask); each query head reads KV head h // 8.
"""

import torch
import torch.nn.functional as F

NUM_QO_HEADS, NUM_KV_HEADS, HEAD_DIM = 64, 8, 128
FP8_MAX = 448.0


@torch.no_grad()
def run(q, k, v, q_scale, k_scale, v_scale):
    group = q.shape[2] // k.shape[2]
    qf = (q.float() * q_scale.float()).transpose(1, 2)  # [batch, heads, seq, dim]
    kf = (k.float() * k_scale.float()).transpose(1, 2).repeat_interleave(group, dim=1)
    vf = (v.float() * v_scale.float()).transpose(1, 2).repeat_interleave(group, dim=1)
    out = F.scaled_dot_product_attention(qf, kf, vf, is_causal=True, scale=HEAD_DIM**-0.5)
    return out.transpose(1, 2).to(torch.bfloat16)


def quantize_per_tensor(x):
    """e4m3 values and the fp32 descale amax / 448, as vLLM's static FP8 attention calibrates them."""
    scale = x.abs().amax().clamp_min(1e-4) / FP8_MAX
    return (x / scale).to(torch.float8_e4m3fn), scale.float().reshape(())


def make_inputs(axes_and_scalars, device):
    batch_size, seq_len = axes_and_scalars["batch_size"], axes_and_scalars["seq_len"]
    q, q_scale = quantize_per_tensor(torch.randn(batch_size, seq_len, NUM_QO_HEADS, HEAD_DIM, device=device))
    k, k_scale = quantize_per_tensor(torch.randn(batch_size, seq_len, NUM_KV_HEADS, HEAD_DIM, device=device))
    v, v_scale = quantize_per_tensor(torch.randn(batch_size, seq_len, NUM_KV_HEADS, HEAD_DIM, device=device))
    return {"q": q, "k": k, "v": v, "q_scale": q_scale, "k_scale": k_scale, "v_scale": v_scale}
