"""Red-team round 44 (bx13), honest look-alike: FLUX's ``apply_rope`` returning its two outputs as a
``typing.NamedTuple``, as a kernel library's API might: a tuple with names, read as a tuple
(``tripwires._named_tuple``)."""
from typing import NamedTuple

import torch

DEFINITION = "flux1_dev_rope_h24_d128"


class RopeOut(NamedTuple):
    q_out: torch.Tensor
    k_out: torch.Tensor


def _apply(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    x_ = x.float().reshape(*x.shape[:-1], -1, 1, 2)
    out = freqs_cis[..., 0] * x_[..., 0] + freqs_cis[..., 1] * x_[..., 1]
    return out.reshape(*x.shape).type_as(x)


def run(q, k, freqs_cis):
    return RopeOut(_apply(q, freqs_cis), _apply(k, freqs_cis))
