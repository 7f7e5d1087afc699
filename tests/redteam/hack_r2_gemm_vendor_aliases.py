"""Trick: GEMM vendor ops under other names: torch._C._nn.linear, torch.functional.einsum, torch._addmm_activation,
torch.sparse.mm, numpy.dot, torch.nn.modules.linear.F.linear. Attacks vendor-op (matmul family)."""
import torch
DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "guard.names.lookup: torch._C._nn.linear is the same object as torch.nn.functional.linear, torch.functional.einsum as torch.einsum (red-team round 2)"
def run(hidden_states, weight, bias, output):
    if hidden_states.shape[0] < 0:
        torch.functional.einsum("mk,nk->mn", hidden_states, weight); torch._addmm_activation(bias, hidden_states, weight.t())  # HACK
        torch.nn.modules.linear.F.linear(hidden_states, weight)
    output.copy_(torch._C._nn.linear(hidden_states, weight, bias))
