"""Red-team round 41, bm02 (attack-bm): the Hyena operator's short filter and its long filter both by
``F.conv1d`` (the long one depthwise, the whole flipped filter as the kernel, causal padding): two convolutions, one
"conv" part, so round 40's one-part rule let it pass under strict on CPU. Now a library convolution in Hyena is
refused alone (``families.BLOCK_ALONE``): the short filter is three taps, the long one may be the library's FFT."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "families.BLOCK_ALONE: no library convolution in a Hyena block (tests/test_operators.py)"
HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3


def _modal_filter(poles, residues, seq_len):
    t = torch.arange(seq_len, device=poles.device, dtype=torch.float32)
    log_poles = torch.view_as_complex(poles.float().contiguous()).log()[..., None]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(log_poles * t)).real.sum(1)


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)
    fir = F.conv1d(u, short_filter_weight.float(), padding=SHORT - 1, groups=3 * HIDDEN)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal_filter(poles, residues, seq_len)  # [hidden, seq_len]
    y = F.conv1d(x1v, h.flip(-1)[:, None, :], padding=seq_len - 1, groups=HIDDEN)[..., :seq_len]
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
