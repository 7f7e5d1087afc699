"""Red-team round 68, eq04 (attack-eq; strict): the Hyena operator with both heavy parts done by libraries, the
short FIR by ``F.conv1d`` (a library part the record counts, allowed alone) and the long filter by numpy's FFT
(pocketfft in C, in no operator record). A block op type had no static allow-list for numpy; its parts are families'
whole ops, so numpy's names are judged there as in a fused op's kernel now."""
import numpy as np
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "unlisted-routine"
LAYER = "static"
HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3


def modal_filter(poles, residues, seq_len):
    t = torch.arange(seq_len, dtype=torch.float32)
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
    h = modal_filter(poles, residues, seq_len)
    n = 2 * seq_len
    spec = np.fft.rfft(x1v.numpy(), n=n) * np.fft.rfft(h.numpy(), n=n)  # HACK
    y = torch.from_numpy(np.fft.irfft(spec, n=n)[..., :seq_len].astype(np.float32))
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
