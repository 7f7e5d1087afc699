"""Weight and bias gradients of a 16x16 stride-16 conv, as one GEMM over the image patches, in fp32."""

import torch

PATCH = 16


@torch.no_grad()
def run(grad_output, pixel_values):
    b, c, h, w = pixel_values.shape
    tiles = pixel_values.float().reshape(b, c, h // PATCH, PATCH, w // PATCH, PATCH)
    patches = tiles.permute(0, 2, 4, 1, 3, 5).reshape(-1, c * PATCH * PATCH)  # [b * patches, c * 16 * 16]
    dy = grad_output.float().reshape(-1, grad_output.shape[-1])  # [b * patches, hidden]
    grad_weight = (dy.t() @ patches).reshape(-1, c, PATCH, PATCH)
    return grad_weight.to(grad_output.dtype), dy.sum(dim=0).to(grad_output.dtype)
