"""Backward of GPT-2 medium's c_fc: grad_input = dy @ W, grad_weight = dy.T @ x, in fp32 (it equals autograd)."""

import torch


@torch.no_grad()
def run(grad_output, x, weight):
    dy = grad_output.float()
    grad_input = dy @ weight.float()
    grad_weight = dy.t() @ x.float()
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype)
