"""MoE finalize: gather each token's top-8 expert rows from the expert-sorted output and sum them by routing weight."""

import torch

HIDDEN, TOP_K, NUM_EXPERTS, ROUTED_SCALING = 7168, 8, 256, 2.5


@torch.no_grad()
def run(expert_output, expanded_row_index, topk_weights):
    rows = expert_output[expanded_row_index.long()].float()  # [num_tokens, top_k, hidden]
    return (rows * topk_weights.float()[..., None]).sum(dim=1).to(expert_output.dtype)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    # Route as DeepSeek-V3 does (top 8 of 256 sigmoid scores, normalized, x 2.5), then sort the rows by expert.
    scores = torch.sigmoid(torch.randn(num_tokens, NUM_EXPERTS))
    weights, experts = scores.topk(TOP_K, dim=-1)
    weights = weights / weights.sum(dim=-1, keepdim=True) * ROUTED_SCALING
    order = experts.flatten().argsort(stable=True)  # row r of expert_output is flat (token, k) pair order[r]
    expanded_row_index = torch.empty_like(order)
    expanded_row_index[order] = torch.arange(len(order))
    return {
        "expert_output": torch.randn(num_tokens * TOP_K, HIDDEN, dtype=torch.bfloat16, device=device),
        "expanded_row_index": expanded_row_index.view(num_tokens, TOP_K).to(torch.int32).to(device),
        "topk_weights": weights.float().to(device),
    }
