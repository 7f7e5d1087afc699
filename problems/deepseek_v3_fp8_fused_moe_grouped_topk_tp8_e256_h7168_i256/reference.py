"""DeepSeek-V3 MoE layer, fused: grouped top-k routing, then per routed expert FP8 gate_up GEMM, SiLU*up, FP8 down."""

import torch
import torch.nn.functional as F

HIDDEN, INTER, NUM_EXPERTS, N_GROUP, TOPK_GROUP, TOP_K, SCALING, BLOCK = 7168, 256, 256, 8, 4, 8, 2.5, 128
FP8_MAX = 448.0  # largest finite float8_e4m3fn


def route(routing_logits, routing_bias):
    """noaux_tc: sigmoid scores; choose by score + bias within the 4 best of 8 groups; weights from the scores."""
    tokens = routing_logits.shape[0]
    scores = torch.sigmoid(routing_logits.float())
    biased = scores + routing_bias.float()
    group_scores = biased.view(tokens, N_GROUP, -1).topk(2, dim=-1).values.sum(dim=-1)  # top 2 of each group
    groups = group_scores.topk(TOPK_GROUP, dim=-1).indices
    group_mask = torch.zeros_like(group_scores).scatter_(1, groups, 1.0).bool()
    expert_mask = group_mask.repeat_interleave(NUM_EXPERTS // N_GROUP, dim=1)
    topk_ids = biased.masked_fill(~expert_mask, float("-inf")).topk(TOP_K, dim=-1).indices
    topk_weights = scores.gather(1, topk_ids)
    return topk_ids, topk_weights / topk_weights.sum(dim=-1, keepdim=True) * SCALING  # norm_topk_prob, x 2.5


def _expand(scale, block_rows, block_cols):
    """Broadcast a per-tile scale over its tile."""
    return scale.repeat_interleave(block_rows, dim=-2).repeat_interleave(block_cols, dim=-1)


@torch.no_grad()
def run(routing_logits, routing_bias, hidden_states, hidden_states_scale, gemm1_weights, gemm1_weights_scale,
        gemm2_weights, gemm2_weights_scale, local_expert_offset):  # fmt: skip
    topk_ids, topk_weights = route(routing_logits, routing_bias)
    x = hidden_states.float() * _expand(hidden_states_scale.float(), 1, BLOCK)
    output = torch.zeros(x.shape, dtype=torch.float32, device=x.device)
    first = int(local_expert_offset)
    for e in range(gemm1_weights.shape[0]):  # this rank's experts: global ids first .. first + num_local_experts - 1
        token, slot = (topk_ids == first + e).nonzero(as_tuple=True)
        if token.numel() == 0:
            continue  # no token routed here: its weights are not read
        w13 = gemm1_weights[e].float() * _expand(gemm1_weights_scale[e].float(), BLOCK, BLOCK)
        w2 = gemm2_weights[e].float() * _expand(gemm2_weights_scale[e].float(), BLOCK, BLOCK)
        gate, up = (x[token] @ w13.t()).chunk(2, dim=-1)
        y = (F.silu(gate) * up) @ w2.t()
        output.index_add_(0, token, y * topk_weights[token, slot][:, None])
    return output.to(torch.bfloat16)


def quantize_blocks(x, block_rows, block_cols):
    """e4m3 values and fp32 scales (amax / 448) per [block_rows, block_cols] tile of the last two dims."""
    *lead, rows, cols = x.shape
    tiles = x.reshape(*lead, rows // block_rows, block_rows, cols // block_cols, block_cols)
    scale = tiles.abs().amax(dim=(-3, -1), keepdim=True).clamp_min(1e-4) / FP8_MAX
    values = (tiles / scale).reshape(x.shape).to(torch.float8_e4m3fn)
    return values, scale.squeeze(-1).squeeze(-2).float()


def make_inputs(axes_and_scalars, device):
    tokens, local = axes_and_scalars["num_tokens"], axes_and_scalars["num_local_experts"]
    group_size = NUM_EXPERTS // N_GROUP
    first = 0 if local == NUM_EXPERTS else int(torch.randint(0, N_GROUP, ())) * group_size
    first += 0 if local == NUM_EXPERTS else int(torch.randint(0, group_size - local + 1, ()))
    logits = torch.randn(tokens, NUM_EXPERTS, device=device)
    bias = 0.05 * torch.randn(NUM_EXPERTS, device=device)  # e_score_correction_bias: learned, plausible size
    if local < NUM_EXPERTS:  # the CI shard: a bias every token's choice follows, so each routes to all its experts
        bias[first : first + local] += 2.0
    hidden, hidden_scale = quantize_blocks(torch.randn(tokens, HIDDEN, device=device), 1, BLOCK)
    w13, w13_scale = quantize_blocks(torch.randn(local, 2 * INTER, HIDDEN, device=device) / HIDDEN**0.5, BLOCK, BLOCK)
    w2, w2_scale = quantize_blocks(torch.randn(local, HIDDEN, INTER, device=device) / INTER**0.5, BLOCK, BLOCK)
    return {
        "routing_logits": logits,
        "routing_bias": bias,
        "hidden_states": hidden,
        "hidden_states_scale": hidden_scale,
        "gemm1_weights": w13,
        "gemm1_weights_scale": w13_scale,
        "gemm2_weights": w2,
        "gemm2_weights_scale": w2_scale,
        "local_expert_offset": torch.tensor(first, dtype=torch.int32, device=device),
    }
