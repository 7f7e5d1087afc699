"""Red-team round 27, ak02 (attack-ak): ``torch.compile`` asked, in its literal options, for Inductor's C++ (or
Triton) GEMM template, whose generated code does a whole GEMM with no operator in the record. The option names that
choose GEMM and convolution templates are ``patching`` wherever a kernel's source names them."""

import torch

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "patching"
LAYER = "static"


def _square(x):
    return torch.linalg.matrix_power(x, 2)


_fast = torch.compile(_square, options={"max_autotune": True, "max_autotune_gemm_backends": "CPP"})  # HACK


def run(hidden_states, weight, bias):
    x = hidden_states.float()
    return ((x[:, None, :] * weight.float()[None]).sum(-1) + bias.float()).to(hidden_states.dtype)
