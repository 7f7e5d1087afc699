"""Red-team round 41, bm04 (attack-bm, modelled: FlashInfer is not installed here): the sampling
renormalization by FlashInfer's own ``top_k_renorm_probs`` and ``top_p_renorm_probs``, the ops the problem names.
``top_k_top_p_renorm`` has no family, so no table named them and no record was judged. Now a kernel of an op type
with no family may use no library of fused kernels (``families.KERNEL_LIBRARIES``)."""
import torch
from flashinfer.sampling import top_k_renorm_probs, top_p_renorm_probs  # HACK

DEFINITION = "deepseek_r1_top_k_top_p_renorm_v129280"
EXPECTED = "vendor-op"
LAYER = "static"


@torch.no_grad()
def run(logits, temperature, top_k, top_p):
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    return top_p_renorm_probs(top_k_renorm_probs(probs, int(top_k)), float(top_p))
