"""e18: a 3x3 conv is three torch.conv_tbc 1-D library convolutions, one per kernel row, summed; conv_tbc was in no
family (red-team round 21, attack-z class A)."""
import torch
import torch.nn.functional as F

DEFINITION = "flux1_dev_vae_conv3x3_c512"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "families: conv_tbc, cuDNN's fused conv+ReLU and every conv backend by prefix are in the conv family"


@torch.no_grad()
def run(x, weight, bias):
    b, c, h, w = x.shape
    xp = F.pad(x.float(), (0, 0, 1, 1))
    wf = weight.float()
    zero = torch.zeros(wf.shape[0])
    out = None
    for r in range(3):
        rows = xp[:, :, r:r + h, :].permute(3, 0, 2, 1).reshape(w, b * h, c).contiguous()
        y = torch.conv_tbc(rows, wf[:, :, r, :].permute(2, 1, 0).contiguous(), zero, 1)  # HACK
        out = y if out is None else out + y
    out = out.reshape(w, b, h, -1).permute(1, 3, 2, 0) + bias.float()[None, :, None, None]
    return out.to(x.dtype)
