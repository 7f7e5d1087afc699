"""MoE permute: copy each token's hidden state to its 8 experts' rows, sorted by expert (stable), with the offsets."""

import torch

HIDDEN, TOP_K, NUM_EXPERTS = 7168, 8, 256


@torch.no_grad()
def run(hidden_states, topk_ids):
    flat = topk_ids.flatten().long()  # (token, k) pairs in token order
    order = flat.argsort(stable=True)  # row r of the output holds pair order[r]
    permuted = hidden_states[order // TOP_K]
    counts = torch.bincount(flat, minlength=NUM_EXPERTS)
    expert_offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)]).to(torch.int32)
    expanded_row_index = torch.empty_like(order)
    expanded_row_index[order] = torch.arange(len(order), device=order.device)
    return permuted, expert_offsets, expanded_row_index.view(topk_ids.shape).to(torch.int32)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    # DeepSeek-V3 routes each token to 8 distinct experts of 256 (top 8 of sigmoid scores; groups left out here).
    experts = torch.sigmoid(torch.randn(num_tokens, NUM_EXPERTS)).topk(TOP_K, dim=-1).indices
    return {
        "hidden_states": torch.randn(num_tokens, HIDDEN, dtype=torch.bfloat16, device=device),
        "topk_ids": experts.to(torch.int32).to(device),
    }
