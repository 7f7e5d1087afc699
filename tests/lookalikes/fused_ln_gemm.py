"""Honest (a false positive of red-team round 1, now passing): an honest fused LayerNorm -> GEMM -> GELU where the kernel writes the LayerNorm and the GELU itself
and leaves only the GEMM to cuBLAS (torch.matmul), the usual split. op_type layernorm_linear_gelu contains "linear",
so the whole matmul family is vendor-op, though torch.matmul does not do "the whole op under test".
"""
import math
import torch
DEFINITION = "convnext_base_layernorm_pwconv1_gelu_c512_h14"
def run(x, norm_weight, norm_bias, weight, bias):
    xf = x.float()
    mu = xf.mean(-1, keepdim=True)
    var = (xf - mu).pow(2).mean(-1, keepdim=True)
    normed = ((xf - mu) * torch.rsqrt(var + 1e-6) * norm_weight.float() + norm_bias.float()).to(x.dtype)
    h = (torch.matmul(normed, weight.t()) + bias).float()
    return (0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0)))).to(x.dtype)
