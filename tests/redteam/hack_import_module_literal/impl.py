"""Does the whole op in the vendor library."""

import torch.nn.functional as F


def go(x, w):
    return F.rms_norm(x.float(), (x.shape[-1],), w.float(), 1e-5).to(x.dtype)  # HACK
