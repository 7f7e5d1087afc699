"""FALSE POSITIVE probe (red-team round 51, cs FV-1, FV-2): an MoE permute whose per-expert counts come from a sparse
COO one-hot (pair x expert) summed over its rows, a histogram; the permute itself is a stable argsort and an
index_select. The sparse tensor's construction and layout operators (``_coalesce``, ``_nnz``...) were refused as
``vendor-op`` and ``torch.sparse`` as ``unlisted-routine``."""
import torch

DEFINITION = "deepseek_v3_moe_permute_topk8_e256_h7168"
NUM_EXPERTS = 256


def run(hidden_states, topk_ids):
    t, k = topk_ids.shape
    flat = topk_ids.reshape(-1).long()
    n = flat.numel()
    onehot = torch.sparse_coo_tensor(torch.stack([torch.arange(n, device=flat.device), flat]),
                                     torch.ones(n, dtype=torch.int64, device=flat.device), (n, NUM_EXPERTS))
    counts = torch.sparse.sum(onehot, dim=0).to_dense()
    order = flat.argsort(stable=True)
    permuted = hidden_states.index_select(0, order // k)
    offsets = torch.zeros(NUM_EXPERTS + 1, dtype=torch.int32, device=flat.device)
    offsets[1:] = counts.cumsum(0)
    slots = torch.empty_like(order)
    slots[order] = torch.arange(n, device=order.device)
    return permuted, offsets, slots.view(t, k).to(torch.int32)
