"""DeepSeek-V3.2 lightning indexer at decode: weighted ReLU scores of fp8 keys per head, the top 2048 cache slots."""

import torch

NUM_HEADS, HEAD_DIM, PAGE_SIZE, TOPK = 64, 128, 64, 2048


@torch.no_grad()
def run(q_fp8, k_cache_fp8, k_cache_scale, weights, seq_lens, block_table):
    batch_size = q_fp8.shape[0]
    topk_indices = torch.empty(batch_size, TOPK, dtype=torch.int32, device=q_fp8.device)
    for b in range(batch_size):
        seq_len = int(seq_lens[b])
        pages = block_table[b, : (seq_len + PAGE_SIZE - 1) // PAGE_SIZE].long()
        k = k_cache_fp8[pages].reshape(-1, HEAD_DIM)[:seq_len].float()  # [seq_len, head_dim]
        k_scale = k_cache_scale[pages].reshape(-1)[:seq_len]
        logits = q_fp8[b].float() @ k.t()  # [heads, seq_len]
        scores = (torch.relu(logits) * weights[b][:, None]).sum(dim=0) * k_scale  # [seq_len]
        chosen = torch.sort(scores, descending=True, stable=True).indices[:TOPK].sort().values  # ties: earlier first
        topk_indices[b] = (pages[chosen // PAGE_SIZE] * PAGE_SIZE + chosen % PAGE_SIZE).to(torch.int32)  # cache slots
    return topk_indices


def _split_lengths(batch_size, total, capacity):
    """Random sequence lengths, each in [TOPK + 1, capacity], summing to exactly `total`."""
    weights = torch.rand(batch_size, dtype=torch.float64) + 0.25
    lengths = (weights / weights.sum() * total).floor().long().clamp(TOPK + 1, capacity)
    missing = total - int(lengths.sum())
    while missing:
        step = 1 if missing > 0 else -1
        room = (lengths < capacity) if step > 0 else (lengths > TOPK + 1)
        chosen = room.nonzero().flatten()[: abs(missing)]
        lengths[chosen] += step
        missing -= step * len(chosen)
    return lengths


def paged_layout(axes, device):
    """seq_lens summing to num_kv_tokens and a block table of distinct pages scattered over the pool."""
    batch_size, max_pages, num_pages = axes["batch_size"], axes["max_pages_per_seq"], axes["num_pages"]
    seq_lens = _split_lengths(batch_size, axes["num_kv_tokens"], max_pages * PAGE_SIZE)
    pages_per_seq = (seq_lens + PAGE_SIZE - 1) // PAGE_SIZE
    pool = torch.randperm(num_pages)[: int(pages_per_seq.sum())]
    block_table = torch.zeros(batch_size, max_pages, dtype=torch.int32)
    start = 0
    for b, count in enumerate(pages_per_seq.tolist()):
        block_table[b, :count] = pool[start : start + count].to(torch.int32)
        start += count
    return block_table.to(device), seq_lens.to(torch.int32).to(device)


def _grid_fp8(shape, device):
    """e4m3 values on the integers -4..4: every dot product of 128 of them is exact in fp32, in any order."""
    return torch.randn(shape, device=device).mul(1.5).round().clamp(-4, 4).to(torch.float8_e4m3fn)


def make_inputs(axes_and_scalars, device):
    block_table, seq_lens = paged_layout(axes_and_scalars, device)
    num_pages, batch_size = axes_and_scalars["num_pages"], len(seq_lens)
    # weights = weights_proj(x) * heads^-0.5 * q_scale * head_dim^-0.5 and the per-token key scales, on grids of
    # powers of two, so that every score is exact in fp32 whatever the order of the sums: the top-k set is unique
    weights = torch.randint(-8, 9, (batch_size, NUM_HEADS)).float() * 2.0**-7
    # key scales 1/2 or 1: from 1/8 to 1, a key scaled by 1/8 never reached the top 2048 of a long sequence, and a
    # kernel that never loaded those keys passed (red-team round 71, ey01)
    k_scale = 2.0 ** torch.randint(-1, 1, (num_pages, PAGE_SIZE)).float()
    inputs = {
        "q_fp8": _grid_fp8((batch_size, NUM_HEADS, HEAD_DIM), device),
        "k_cache_fp8": _grid_fp8((num_pages, PAGE_SIZE, HEAD_DIM), device),
        "k_cache_scale": k_scale.to(device),
        "weights": weights.to(device),
        "seq_lens": seq_lens,
        "block_table": block_table,
    }
    _untie_the_cut(inputs)
    return inputs


def _untie_the_cut(inputs):
    """Exact scores on a coarse grid tie often, at the cut too (the 2048th score equal to the 2049th in 3 of 5 draws):
    then which token is chosen is a tie-break, and an honest torch.topk loses to the reference's stable sort. Move
    the tied tokens the reference leaves out away from the cut (their key scale halved, or doubled for a negative
    score: still a power of two, still exact), so the chosen set is unique."""
    for b in range(inputs["q_fp8"].shape[0]):
        seq_len = int(inputs["seq_lens"][b])
        pages = inputs["block_table"][b, : (seq_len + PAGE_SIZE - 1) // PAGE_SIZE].long()
        k = inputs["k_cache_fp8"][pages].reshape(-1, HEAD_DIM)[:seq_len].float()
        k_scale = inputs["k_cache_scale"][pages].reshape(-1)[:seq_len]
        scores = (torch.relu(inputs["q_fp8"][b].float() @ k.t()) * inputs["weights"][b][:, None]).sum(dim=0) * k_scale
        order = torch.sort(scores, descending=True, stable=True).indices
        cut = scores[order[TOPK - 1]]
        if cut == 0 or scores[order[TOPK]] != cut:
            continue
        left_out = order[TOPK:][scores[order[TOPK:]] == cut]  # tied with the last chosen, after it in position
        slots = pages[left_out // PAGE_SIZE], left_out % PAGE_SIZE
        inputs["k_cache_scale"][slots] *= 0.5 if cut > 0 else 2.0
