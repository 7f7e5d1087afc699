"""HunyuanVideo VAE CausalConv3d: replicate-pad 2 frames in front and 1 pixel around, then a 3x3x3 Conv3d, bf16."""

import torch
import torch.nn.functional as F

CHANNELS, KERNEL = 512, 3
CAUSAL_PADDING = (1, 1, 1, 1, 2, 0)  # (w left, w right, h top, h bottom, t front, t back): no frame sees the future


@torch.no_grad()
def run(hidden_states, weight, bias):
    padded = F.pad(hidden_states, CAUSAL_PADDING, mode="replicate")
    return F.conv3d(padded, weight, bias)


def make_inputs(axes_and_scalars, device):
    batch, frames = axes_and_scalars["batch_size"], axes_and_scalars["num_frames"]
    height, width = axes_and_scalars["height"], axes_and_scalars["width"]
    fan_in = CHANNELS * KERNEL**3  # weights of unit gain, as a trained conv keeps activations O(1)
    return {
        "hidden_states": torch.randn(batch, CHANNELS, frames, height, width, device=device).to(torch.bfloat16),
        "weight": (torch.randn(CHANNELS, CHANNELS, KERNEL, KERNEL, KERNEL, device=device) / fan_in**0.5).to(torch.bfloat16),
        "bias": (0.1 * torch.randn(CHANNELS, device=device)).to(torch.bfloat16),
    }
