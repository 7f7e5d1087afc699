"""Red-team round 41 (attack-bo, FV-5), honest look-alike: the Hyena operator with its short filter by
hand, its modal filter built by an einsum over the state axis and its long convolution by ``torch.fft``. A block's
GEMM counts as its conv part (round 42, bp01, bp06: a conv or the long filter by a library GEMM), so this honest
einsum needs its allowance, which says why."""
import torch

SOLBENCH_ALLOW = {"vendor-op": "the einsum sums two modal states into the filter table; the long convolution is the FFT"}
DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
HIDDEN, HEADS, SHORT = 4096, 32, 3


def _modal_filter(poles, residues, seq_len):
    t = torch.arange(seq_len, dtype=torch.float32, device=poles.device)
    log_p = torch.view_as_complex(poles.float().contiguous()).log()  # [D, N]
    powers = torch.exp(log_p[..., None] * t)  # [D, N, L]
    r = torch.view_as_complex(residues.float().contiguous())  # [D, N]
    return torch.einsum("dn,dnl->dl", r, powers).real  # sum over the N = 2 states


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)  # [B, 3H, L]
    w = short_filter_weight.float()[:, 0]  # [3H, 3]
    fir = u * w[:, SHORT - 1, None]
    for s in range(1, SHORT):  # causal taps: y[t] += w[K-1-s] * u[t-s]
        fir[..., s:] += u[..., :-s] * w[:, SHORT - 1 - s, None]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal_filter(poles, residues, seq_len)
    n = 2 * seq_len
    y = torch.fft.irfft(torch.fft.rfft(x1v, n=n) * torch.fft.rfft(h, n=n), n=n)[..., :seq_len]
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
