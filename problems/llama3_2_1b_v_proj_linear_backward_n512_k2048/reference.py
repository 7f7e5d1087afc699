"""Backward of y = x @ weight.T: grad_input = dy @ weight, grad_weight = dy.T @ x, computed in fp32, rounded to bf16."""

import torch


@torch.no_grad()
def run(grad_output, x, weight):
    dy = grad_output.float()
    grad_input = dy @ weight.float()
    grad_weight = dy.t() @ x.float()
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype)
