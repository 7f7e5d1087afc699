"""Red-team round 73, fc01 (attack-fc; strict): a Qwen3-8B top-k/top-p renorm that never reads top_p (0.95): the
softmax, the top-20 cut, one renorm, and no second sort, scan or renorm. Nearly every element is an exact zero and
top-p removes at most 5 % of a row's mass, so it stayed under fp32's default relative L2 bound (0.053 to 0.062) and
PASSED. The renorms' workloads now hold the relative L2 error to 0.01; an honest renorm is within 2e-7."""

import torch

DEFINITION = "qwen3_8b_top_k_top_p_renorm_v151936"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "the renorms' workload tolerance, max_relative_l2_error 0.01 (docs/problems.md, Tolerances)"


@torch.no_grad()
def run(logits, temperature, top_k, top_p):
    z = logits.float() / temperature
    e = (z - z.amax(dim=-1, keepdim=True)).exp()
    probs = e / e.sum(dim=-1, keepdim=True)
    kth = probs.sort(dim=-1, descending=True).values[:, top_k - 1 : top_k]
    probs = torch.where(probs >= kth, probs, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)
