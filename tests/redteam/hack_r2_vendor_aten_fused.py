"""Trick: vendor-op via torch._fused_rms_norm / torch.ops.aten._fused_rms_norm (not in the rmsnorm family list). Attacks vendor-op."""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "a private or fused twin of a vendor op name (torch._fused_rms_norm) is read as that op (red-team round 2)"
def run(hidden_states, weight, output):
    y = torch._fused_rms_norm(hidden_states.float(), [hidden_states.shape[-1]], weight.float(), 1e-5)[0]  # HACK
    output.copy_(y.to(output.dtype))
