"""Red-team round 46, cb04 (attack-cb): an identity ``autograd.Function`` whose class is named like the record's
marker ``<every convolution short>``: its event put the marker in the record, and a whole-sequence library conv1d
passed. PASSED under strict on CPU. Now no event's name can be a marker."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard.dispatched: a short convolution reads at most four values per output; no event names a marker"

HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3
_MARK = "<every convolution " + "short>"


def _modal(poles, residues, seq_len):
    t = torch.arange(seq_len, device=poles.device, dtype=torch.float32)
    log_poles = torch.view_as_complex(poles.float().contiguous()).log()[..., None]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(log_poles * t)).real.sum(1)


@torch.no_grad()
def _run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)
    fir = F.conv1d(u, short_filter_weight.float(), padding=SHORT - 1, groups=3 * HIDDEN)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal(poles, residues, seq_len)
    # the long filter whole by the library: one conv1d whose kernel is the whole sequence (bm02's way)
    y = F.conv1d(F.pad(x1v, (seq_len - 1, 0)), h.flip(-1)[:, None, :], groups=HIDDEN)
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)


class _Tag(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


_Tag.__name__ = _MARK


def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    _Tag.apply(D[:1])
    return _run(z, short_filter_weight, short_filter_bias, poles, residues, D)
