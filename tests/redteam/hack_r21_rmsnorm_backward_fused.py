"""e11: the RMSNorm backward is aten._fused_rms_norm_backward (GPU only: no CPU kernel); neither the name nor the
recorded op mapped to a family (red-team round 21, attack-z class A)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_backward_h7168"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "corners.vendor_family: a _backward suffix is the forward's family"
EPS = 1e-6


@torch.no_grad()
def run(grad_output, hidden_states, weight):
    x = hidden_states.float()
    rstd = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS)
    dx, dw = torch.ops.aten._fused_rms_norm_backward(grad_output.float(), x, [x.shape[-1]], rstd, weight.float(),  # HACK
                                                     [True, True])
    return dx.to(hidden_states.dtype), dw.to(weight.dtype)
