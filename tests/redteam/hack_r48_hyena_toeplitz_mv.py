"""Red-team round 48, ch03 (attack-ch): round 42's Toeplitz GEMM (bp06) as one library ``torch.mv`` per channel,
beside the reference's three-tap library conv: ``mv`` was no conv part, so only the short conv was seen. PASSED under
strict on CPU. Now every GEMM part is the block's conv part, and a GEMM is never a short convolution."""
import torch
import torch.nn.functional as F

DEFINITION = "stripedhyena_7b_hyena_operator_d4096_s2"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard.dispatched._block_finding: every GEMM part is a block\'s conv part"
HIDDEN, HEADS, STATE, SHORT = 4096, 32, 2, 3


def _modal(poles, residues, seq_len):
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
    h = _modal(poles, residues, seq_len)                        # [C, T]
    hp = F.pad(h.flip(-1), (0, seq_len - 1))                    # [C, 2T-1]: h reversed, then zeros
    toe = hp.unfold(-1, seq_len, 1).flip(1)                     # [C, T, T]: toe[c, t, s] = h[c, t - s] (0 if s > t)
    y = torch.empty(batch, HIDDEN, seq_len)
    for b in range(batch):
        for c in range(HIDDEN):
            y[b, c] = torch.mv(toe[c], x1v[b, c])               # the library's GEMV: the long filter whole
    y = (y + x1v * D.float()[:, None]) * x2
    return y.transpose(1, 2).to(torch.bfloat16)
# Ran (03:47 UTC):
#  venv/bin/python -m pytest -p no:randomly -p no:cacheprovider --solbench --solbench-device cpu \
#    problems/stripedhyena_7b_hyena_operator_d4096_s2/definition.json \
#    --kernel-dir /work/attack-ch/kernels/ch03_hyena_toeplitz_mv.py --solbench-rounds 2 --solbench-guard strict \
#    -k "seq_len:128]" --solbench-json /tmp/ch03.jsonl -v
#  -> seq_len 128 PASSED (strict). The record (dispatched.recorded() around run()) held aten::mv, aten::addmv_,
#  aten::conv1d/convolution/_convolution/mkldnn_convolution and "<every convolution short>"; finding() -> None;
#  the same names plus aten::mm -> vendor-op.
