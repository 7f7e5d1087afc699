"""Red-team round 23, ac05 (honest look-alike, a false verdict now fixed): FLUX's rope applied as what it is, a 2x2 rotation matrix times each (x0, x1) pair.

freqs_cis holds one 2x2 matrix per (position, pair); the natural eager-torch way to apply it is a batched
matrix-vector product, `freqs_cis @ pair` (torch.matmul broadcasting over batch and heads). This is exactly the
rope's arithmetic (2 multiplies and an add per output), no library rope. The operator allow-list first refused the
tiny bmm that torch.matmul dispatches; a GEMM is now a part of every family's op but the GEMM-like ones
(``guard.families.Family.parts``).
"""

import torch

DEFINITION = "flux1_dev_rope_h24_d128"


def _apply(x, freqs_cis):
    pairs = x.float().reshape(*x.shape[:-1], -1, 2, 1)  # [b, h, s, pairs, 2, 1]
    out = torch.matmul(freqs_cis, pairs)  # [s, pairs, 2, 2] @ [b, h, s, pairs, 2, 1] -> [b, h, s, pairs, 2, 1]
    return out.reshape(x.shape).to(x.dtype)


@torch.no_grad()
def run(q, k, freqs_cis):
    return _apply(q, freqs_cis), _apply(k, freqs_cis)
