"""Dynamic per-token FP8 quantization (vLLM's): fp32 scale = amax / 448 per token, e4m3 values = clamp(x / scale)."""

import torch

FP8_MAX = 448.0  # largest finite float8_e4m3fn
MIN_SCALE = 1.0 / (FP8_MAX * 512.0)  # vLLM's floor, so an all-zero token gets a finite scale


@torch.no_grad()
def run(hidden_states):
    x = hidden_states.float()
    scale = (x.abs().amax(dim=-1) / FP8_MAX).clamp_min(MIN_SCALE)
    values = (x / scale[:, None]).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    return values, scale
