"""e05: the GEMM is torch._addmm_activation (cuBLASLt's epilogue GEMM; BLAS on CPU) on [x; -x]: relu(xW) - relu(-xW)
= xW exactly (red-team round 21, attack-z class A)."""
import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: _addmm_activation and torch 2.13's other GEMM kernels (by prefix) are in the matmul family"


@torch.no_grad()
def run(hidden_states, weight, bias):
    m = hidden_states.shape[0]
    both = torch.cat([hidden_states, -hidden_states])
    zero = torch.zeros(weight.shape[0], dtype=torch.float32 if both.dtype == torch.float32 else both.dtype,
                       device=both.device)
    y = torch._addmm_activation(zero, both, weight.t())  # HACK
    return (y[:m].float() - y[m:].float() + bias.float()).to(hidden_states.dtype)
