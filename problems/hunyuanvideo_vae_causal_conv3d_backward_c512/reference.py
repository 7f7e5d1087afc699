"""Gradients of HunyuanVideo's CausalConv3d: conv3d's input and weight gradients on the padded video, the bias
gradient, and the replicate padding folded back onto the border frames and pixels; fp32 inside, bf16 in and out."""

import torch
import torch.nn.functional as F

CHANNELS, KERNEL = 512, 3
CAUSAL_PADDING = (1, 1, 1, 1, 2, 0)  # (w left, w right, h top, h bottom, t front, t back), replicated


def _fold_replicate(grad_padded, shape):
    """Replicate padding's backward: each padded position's gradient goes to the border element it copied."""
    for dim, before in ((2, CAUSAL_PADDING[4]), (3, CAUSAL_PADDING[2]), (4, CAUSAL_PADDING[0])):
        source = (torch.arange(grad_padded.shape[dim], device=grad_padded.device) - before).clamp(0, shape[dim] - 1)
        size = list(grad_padded.shape)
        size[dim] = shape[dim]
        grad_padded = torch.zeros(size, dtype=grad_padded.dtype, device=grad_padded.device).index_add_(
            dim, source, grad_padded)
    return grad_padded


@torch.no_grad()
def run(grad_output, hidden_states, weight):
    dy = grad_output.float()  # fp32 throughout (CPU's bf16 weight gradient of a 512-channel Conv3d takes minutes)
    padded = F.pad(hidden_states.float(), CAUSAL_PADDING, mode="replicate")
    grad_padded = torch.nn.grad.conv3d_input(padded.shape, weight.float(), dy)
    grad_weight = torch.nn.grad.conv3d_weight(padded, weight.shape, dy)
    grad_input = _fold_replicate(grad_padded, hidden_states.shape)
    grad_bias = dy.sum(dim=(0, 2, 3, 4))
    return grad_input.to(hidden_states.dtype), grad_weight.to(weight.dtype), grad_bias.to(weight.dtype)


def make_inputs(axes_and_scalars, device):
    batch, frames = axes_and_scalars["batch_size"], axes_and_scalars["num_frames"]
    height, width = axes_and_scalars["height"], axes_and_scalars["width"]
    fan_in = CHANNELS * KERNEL**3  # weights of unit gain, as a trained conv keeps activations O(1)
    shape = (batch, CHANNELS, frames, height, width)
    return {
        "grad_output": torch.randn(shape, device=device).to(torch.bfloat16),
        "hidden_states": torch.randn(shape, device=device).to(torch.bfloat16),
        "weight": (torch.randn(CHANNELS, CHANNELS, KERNEL, KERNEL, KERNEL, device=device) / fan_in**0.5).to(torch.bfloat16),
    }
