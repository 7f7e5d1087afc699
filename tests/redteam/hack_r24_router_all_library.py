"""(Red-team round 24, attack-ae.) ae01: the MoE router (moe_router_topk_softmax) done wholly by library calls: the
reference verbatim.

The gate GEMM is a torch matmul (aten::mm, allowed as the MoE family's GEMM "part"), the softmax is torch.softmax
(the softmax family's op: the one part a fused op may hand to the library), topk is a sort-like primitive. The
fused-op rule (dispatched.finding) counts only ops named in a matched family's *qualified* list; the GEMM is in none
of them (the matmul family does not match "moe_router_topk_softmax"), so every part by library passes.
"""

import torch

DEFINITION = "qwen3_30b_a3b_moe_topk_softmax_router_e128_h2048"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = ('guard/dispatched.finding: in a fused op type a GEMM or a softmax no family of it names counts as the'
             " GEMM's or the softmax's part: one part to the library, not two")


@torch.no_grad()
def run(hidden_states, gate_weight):
    probs = torch.softmax(hidden_states.float() @ gate_weight.float().t(), dim=-1)
    weights, chosen = probs.topk(8, dim=-1)
    return torch.zeros_like(probs).scatter_(1, chosen, weights / weights.sum(dim=-1, keepdim=True))
