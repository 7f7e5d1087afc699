"""Red-team round 45 (ca f01), honest look-alike: FLUX's RoPE returning an ``OrderedDict`` keyed by the output
names, as older libraries do: C's own mapping, like ``dict``."""
import collections

import torch

DEFINITION = "flux1_dev_rope_h24_d128"


def _apply(x, freqs_cis):
    p = x.float().reshape(*x.shape[:-1], -1, 1, 2)
    return (freqs_cis[..., 0] * p[..., 0] + freqs_cis[..., 1] * p[..., 1]).reshape(x.shape).to(x.dtype)


def run(q, k, freqs_cis):
    return collections.OrderedDict(q_out=_apply(q, freqs_cis), k_out=_apply(k, freqs_cis))
