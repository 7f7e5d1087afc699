"""Trick: GEMM vendor ops under other names: torch._C._nn.linear, torch.functional.einsum, torch._addmm_activation,
torch.sparse.mm, numpy.dot, torch.nn.modules.linear.F.linear. Attacks vendor-op (matmul family)."""
import torch
DEFINITION = "bert_base_qkv_proj_n2304_k768"
def run(hidden_states, weight, bias, output):
    if hidden_states.shape[0] < 0:
        torch.functional.einsum("mk,nk->mn", hidden_states, weight); torch._addmm_activation(bias, hidden_states, weight.t())
        torch.nn.modules.linear.F.linear(hidden_states, weight)
    output.copy_(torch._C._nn.linear(hidden_states, weight, bias))
