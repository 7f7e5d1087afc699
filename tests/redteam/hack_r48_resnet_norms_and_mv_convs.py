"""Red-team round 48, ch02 (attack-ch): a ResnetBlock whose group norms are the library's and whose 3x3
convolutions are ``F.unfold`` and one library ``torch.mv`` per output pixel: ``mv`` is a GEMM part the allow-list
let through, but the block counted only the conv family's table as its conv part, so the library did both heavy
parts. PASSED under strict on CPU. Now every GEMM part is a block's conv part."""
import torch
import torch.nn.functional as F

DEFINITION = "sd1_5_unet_resnet_block_temb_c320"
EXPECTED = "vendor-op"
LAYER = "runtime-own"
CAUGHT_BY = "guard.dispatched._block_finding: every GEMM part is a block\'s conv part"
GROUPS, EPS = 32, 1e-5


def _conv3x3(h, w, b):
    n, c, hh, ww = h.shape
    cols = F.unfold(h, 3, padding=1)  # [N, C*9, H*W]: im2col, a movement op
    wm = w.float().reshape(w.shape[0], -1)  # [Cout, C*9]
    out = torch.empty(n, w.shape[0], hh * ww)
    for i in range(n):
        ci = cols[i].t().contiguous()  # [HW, C*9]
        for p in range(hh * ww):
            out[i, :, p] = torch.mv(wm, ci[p])  # the library's GEMV: the whole conv, unjudged
    return out.reshape(n, -1, hh, ww) + b.float()[None, :, None, None]


@torch.no_grad()
def run(x, temb, norm1_weight, norm1_bias, conv1_weight, conv1_bias, time_emb_proj_weight, time_emb_proj_bias,
        norm2_weight, norm2_bias, conv2_weight, conv2_bias):  # fmt: skip
    xf = x.float()
    h = F.silu(F.group_norm(xf, GROUPS, norm1_weight.float(), norm1_bias.float(), EPS))
    h = _conv3x3(h, conv1_weight, conv1_bias)
    st = F.silu(temb.float())
    t = torch.stack([torch.mv(time_emb_proj_weight.float(), st[i]) for i in range(st.shape[0])])
    h = h + (t + time_emb_proj_bias.float())[:, :, None, None]
    h = F.silu(F.group_norm(h, GROUPS, norm2_weight.float(), norm2_bias.float(), EPS))
    h = _conv3x3(h, conv2_weight, conv2_bias)
    return (xf + h).to(x.dtype)
# Ran (03:46 UTC):
#  venv/bin/python -m pytest -p no:randomly -p no:cacheprovider --solbench --solbench-device cpu \
#    problems/sd1_5_unet_resnet_block_temb_c320/definition.json \
#    --kernel-dir /work/attack-ch/kernels/ch02_resnet_library_norms_mv_convs.py --solbench-rounds 2 \
#    --solbench-guard strict --solbench-cpu-max-gflop 20 -k "batch_size:1-" --solbench-json /tmp/ch02.jsonl -v
#  -> batch_size:1-height:64-width:64 PASSED (strict). (Without --solbench-cpu-max-gflop every item is skipped on CPU.)
#  Judge's own finding() on the record's names: {mv, native_group_norm, im2col} -> None;
#  {mm, native_group_norm} -> vendor-op (two parts). The record holds aten::mv and aten::addmv_.
