"""Red-team round 42, bp06 (attack-bp): Hyena's long filter as a library GEMM against a Toeplitz matrix,
its short filter by the library's FFT: round 41 refused a library conv alone and counted no GEMM in a block, so every
heavy part was the library's and it PASSED under strict on CPU. Now a block's GEMM counts as its conv part, which
Hyena refuses alone."""
import torch

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "a block's GEMM is its conv part (tests/test_operators.py)"
HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3


def _modal(poles, residues, seq_len):
    t = torch.arange(seq_len, dtype=torch.float32)
    lp = torch.view_as_complex(poles.float().contiguous()).log()[..., None]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(lp * t)).real.sum(1)


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)  # [b, 3H, L]
    n = 2 * seq_len
    w = short_filter_weight.float()[:, 0, :].flip(-1)  # [3H, 3], flipped (conv1d correlates): causal FIR by the library FFT
    fir = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(w, n=n), n=n)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal(poles, residues, seq_len)  # [H, L]
    idx = torch.arange(seq_len)
    lag = idx[:, None] - idx[None, :]
    toeplitz = torch.where(lag >= 0, h[:, lag.clamp(min=0)], torch.zeros(()))  # [H, L, L]
    y = torch.matmul(toeplitz[None], x1v[..., None])[..., 0]  # the long convolution: a library batched GEMM
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
