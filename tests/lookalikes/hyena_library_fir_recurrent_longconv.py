"""Red-team rounds 40 and 42 (br FV-1, bu FV-9), honest look-alike: the Hyena operator with its three-tap short
filter by ``F.conv1d``, as the problem's reference does it, and the long convolution written by the kernel in its
recurrent form (the modal filter is a sum of decaying exponentials: one complex state per pole, stepped along the
sequence). One heavy part is the library's, and a short one: it passes (``dispatched.SHORT_CONVOLUTIONS``)."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
HIDDEN, HEADS, SHORT = 4096, 32, 3


@torch.no_grad()
def run(z, short_filter_weight, short_filter_bias, poles, residues, D):
    b, L, _ = z.shape
    u = z.float().transpose(1, 2)  # [b, 3H, L]
    fir = F.conv1d(u, short_filter_weight.float(), short_filter_bias.float(), padding=SHORT - 1,
                   groups=3 * HIDDEN)[..., :L]
    fir = fir.reshape(b, HEADS, 3, HIDDEN // HEADS, L)
    x2, x1, v = (fir[:, :, i].reshape(b, HIDDEN, L) for i in range(3))
    x1v = x1 * v
    p = torch.complex(poles[..., 0].float(), poles[..., 1].float())  # [H, state]
    r = torch.complex(residues[..., 0].float(), residues[..., 1].float())
    state = torch.zeros(b, HIDDEN, p.shape[-1], dtype=torch.complex64, device=z.device)
    y = torch.empty_like(x1v)
    for t in range(L):  # s[t] = p s[t-1] + x[t];  y[t] = Re(sum_n r_n s_n[t])
        state = state * p + x1v[..., t, None]
        y[..., t] = (state * r).real.sum(-1)
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
