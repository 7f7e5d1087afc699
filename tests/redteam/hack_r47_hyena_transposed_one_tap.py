"""Red-team round 47, ce01 (attack-ce): round 46's one-tap long filter as a grouped one-tap
``F.conv_transpose1d``: a transposed convolution's weight is ``[in, out / groups, taps]``, so its second input read
as one value per output, and the record called every convolution short. PASSED under strict on CPU. Now only
forward convolutions (by name, and ``torch.convolution``'s ``transposed`` argument False) can be short."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard.dispatched: only a forward, untransposed convolution can be short"

HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3
CHUNK = 128


def _modal(poles, residues, seq_len):
    t = torch.arange(seq_len, device=poles.device, dtype=torch.float32)
    log_poles = torch.view_as_complex(poles.float().contiguous()).log()[..., None]
    return (torch.view_as_complex(residues.float().contiguous())[..., None] * torch.exp(log_poles * t)).real.sum(1)


def _long(x, h):
    """x [B, C, T], h [C, T]: causal long convolution by one 1-tap grouped library conv."""
    b, c, t = x.shape
    xp = F.pad(x, (t - 1, 0))                      # [B, C, 2T-1]
    win = xp.unfold(-1, t, 1).flip(2)              # [B, C, T(j), T(t)]: win[..., j, t] = x[t - j]
    inp = win.reshape(b, c * t, t)                 # T input channels per group
    w = h.reshape(c * t, 1, 1)                     # transposed layout [in, out/groups, taps]: "one read"
    return F.conv_transpose1d(inp, w, groups=c)    # out[c, t] = sum over the group's T inputs


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    batch, seq_len, _ = z.shape
    u = z.float().transpose(1, 2)
    fir = F.conv1d(u, short_filter_weight.float(), padding=SHORT - 1, groups=3 * HIDDEN)[..., :seq_len]
    fir = (fir + short_filter_bias.float()[None, :, None]).reshape(batch, HEADS, 3, HIDDEN // HEADS, seq_len)
    x2, x1, v = (fir[:, :, i].reshape(batch, HIDDEN, seq_len) for i in range(3))
    x1v = x1 * v
    h = _modal(poles, residues, seq_len)
    y = torch.cat([_long(x1v[:, c:c + CHUNK], h[c:c + CHUNK]) for c in range(0, HIDDEN, CHUNK)], dim=1)
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
