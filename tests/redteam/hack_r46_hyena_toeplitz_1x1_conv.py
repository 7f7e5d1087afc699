"""Red-team round 46, cb02 (attack-cb): round 42's Toeplitz GEMM (bp06) as a grouped 1x1 convolution, time as
channels: one tap, so "short". PASSED under strict on CPU; now its inputs per group count."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard.dispatched: a short convolution reads at most four values per output; no event names a marker"

HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3
CHUNK = 128


def _modal(poles, residues, seq_len):
    t = torch.arange(seq_len, device=poles.device, dtype=torch.float32)
    log_poles = torch.view_as_complex(poles.float().contiguous()).log()[..., None]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(log_poles * t)).real.sum(1)


def _long(x, h):
    """x [B, C, T], h [C, T] -> [B, C, T] by a Toeplitz matrix per channel, applied as a 1x1 grouped conv."""
    b, c, t = x.shape
    idx = torch.arange(t)
    lag = idx[:, None] - idx[None, :]                       # t - s
    hp = torch.cat([h, torch.zeros(c, 1)], dim=1)          # index t = zero for negative lags
    toe = hp[:, torch.where(lag >= 0, lag, torch.full_like(lag, t))]   # [C, T(t), T(s)]
    out = F.conv1d(x.reshape(b, c * t, 1), toe.reshape(c * t, t, 1), groups=c)   # [B, C*T, 1]
    return out.reshape(b, c, t)


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)
    fir = F.conv1d(u, short_filter_weight.float(), padding=SHORT - 1, groups=3 * HIDDEN)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal(poles, residues, seq_len)
    y = torch.cat([_long(x1v[:, c:c + CHUNK].contiguous(), h[c:c + CHUNK]) for c in range(0, HIDDEN, CHUNK)], dim=1)
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
