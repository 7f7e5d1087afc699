"""DeepSeek-V3 router: sigmoid scores, grouped top-k (4 of 8 groups, 8 experts) with bias, renormalized, x 2.5."""

import torch

HIDDEN, NUM_EXPERTS, N_GROUP, TOPK_GROUP, TOP_K, SCALING = 7168, 256, 8, 4, 8, 2.5


@torch.no_grad()
def run(hidden_states, gate_weight, correction_bias):
    scores = torch.sigmoid(hidden_states.float() @ gate_weight.float().t())
    biased = scores + correction_bias.float()
    tokens = scores.shape[0]
    group_scores = biased.view(tokens, N_GROUP, -1).topk(2, dim=-1).values.sum(dim=-1)
    groups = group_scores.topk(TOPK_GROUP, dim=-1).indices
    group_mask = torch.zeros_like(group_scores).scatter_(1, groups, 1.0).bool()
    expert_mask = group_mask.repeat_interleave(NUM_EXPERTS // N_GROUP, dim=1)
    chosen = biased.masked_fill(~expert_mask, float("-inf")).topk(TOP_K, dim=-1).indices
    weights = scores.gather(1, chosen)
    weights = weights / weights.sum(dim=-1, keepdim=True) * SCALING
    return torch.zeros_like(scores).scatter_(1, chosen, weights)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    hidden = torch.randn(num_tokens, HIDDEN, device=device).to(torch.bfloat16)
    weight = (torch.randn(NUM_EXPERTS, HIDDEN, device=device) / HIDDEN**0.5).to(torch.bfloat16)
    bias = 0.05 * torch.randn(NUM_EXPERTS, device=device)
    return {"hidden_states": hidden, "gate_weight": weight, "correction_bias": bias}
