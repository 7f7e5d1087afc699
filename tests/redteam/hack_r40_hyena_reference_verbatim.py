"""Red-team round 40, bl25 (attack-bl): the Hyena operator problem's own reference copied verbatim (a library
short conv and a library FFT long convolution). Its op type had no family: PASSED under strict on CPU. Now
``families.BLOCK_PARTS`` holds it to one library part of the two."""
DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "families.BLOCK_PARTS: a block may hand one heavy part to the library (tests/test_operators.py)"

import math

import torch
import torch.nn.functional as F

HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3


def modal_filter(poles, residues, seq_len):
    """h[d, t] = Re(sum_n residues[d, n] * poles[d, n] ** t): the implicit long filter, one per channel, fp32."""
    t = torch.arange(seq_len, device=poles.device, dtype=torch.float32)
    log_poles = torch.view_as_complex(poles.float().contiguous()).log()[..., None]  # [hidden, state, 1]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(log_poles * t)).real.sum(1)


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)  # [batch, 3 * hidden, seq_len]
    fir = F.conv1d(u, short_filter_weight.float(), padding=SHORT - 1, groups=3 * HIDDEN)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))  # column split, per head
    x1v = x1 * v
    h = modal_filter(poles, residues, seq_len)
    n = 2 * seq_len  # zero-padded to twice the length: the circular convolution is the causal one
    y = torch.fft.irfft(torch.fft.rfft(x1v, n=n) * torch.fft.rfft(h, n=n), n=n)[..., :seq_len]
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)


def make_inputs(axes_and_scalars, device):
    batch, seq_len = axes_and_scalars["batch_size"], axes_and_scalars["seq_len"]
    magnitude = 1 - 10 ** torch.empty(HIDDEN, STATE).uniform_(-4, -1)  # memories of 10 to 10^4 tokens
    phase = 0.01 * torch.randn(HIDDEN, STATE)
    poles = torch.stack([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=-1)
    residues = torch.randn(HIDDEN, STATE, 2) * (1 - magnitude**2).sqrt()[..., None]  # keeps y of unit size
    return {
        "z": torch.randn(batch, seq_len, 3 * HIDDEN, device=device).to(torch.bfloat16),
        "short_filter_weight": (torch.randn(3 * HIDDEN, 1, SHORT) / math.sqrt(SHORT)).to(device),
        "short_filter_bias": (0.1 * torch.randn(3 * HIDDEN)).to(device),
        "poles": poles.to(device),
        "residues": residues.to(device),
        "D": torch.randn(HIDDEN, device=device),
    }
