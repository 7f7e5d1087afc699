"""Red-team round 45 (ca c01), honest look-alike: FLUX's RoPE returning a subclass of a ``collections.namedtuple`` with
``__slots__ = ()`` and a method of its own, the Python docs' idiom: read as the tuple it is."""
import collections

import torch

DEFINITION = "flux1_dev_rope_h24_d128"


class RopeOut(collections.namedtuple("RopeOut", "q_out k_out")):
    __slots__ = ()

    def shapes(self):
        return tuple(t.shape for t in self)


def _apply(x, freqs_cis):
    p = x.float().reshape(*x.shape[:-1], -1, 1, 2)
    return (freqs_cis[..., 0] * p[..., 0] + freqs_cis[..., 1] * p[..., 1]).reshape(x.shape).to(x.dtype)


def run(q, k, freqs_cis):
    return RopeOut(_apply(q, freqs_cis), _apply(k, freqs_cis))
