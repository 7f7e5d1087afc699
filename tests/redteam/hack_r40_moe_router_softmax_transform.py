"""Red-team round 40, bj03 (attack-bj): a MoE router (a fused op of several families) whose GEMM is
``torch.matmul`` (one library part, allowed) and whose softmax is ``SoftmaxTransform`` (a second part the record sees
as primitives). A fused op had no allow-list at all: PASSED under strict on CPU. The allow-lists of numpy, ``math``,
``statistics`` and torch's modules now hold in a fused op's kernel too."""
import torch
from torch.distributions.transforms import SoftmaxTransform  # HACK

DEFINITION = "qwen3_30b_a3b_moe_topk_softmax_router_e128_h2048"
EXPECTED = "unlisted-routine"
LAYER = "static"
_T = SoftmaxTransform()
TOP_K = 8


def run(hidden_states, gate_weight):
    probs = _T(torch.matmul(hidden_states.float(), gate_weight.float().t()))
    weights, chosen = probs.topk(TOP_K, dim=-1)
    return torch.zeros_like(probs).scatter_(1, chosen, weights / weights.sum(dim=-1, keepdim=True))
