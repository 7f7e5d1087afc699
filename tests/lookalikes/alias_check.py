"""Honest (a false positive of red-team round 1, now passing): an honest destination-passing kernel that checks whether the output aliases the input (to go
through a temporary when it does), keeping the two pointers in locals. pointers.py flags `p_out == p_in` (an
equality whose right side is a Name) as a pointer cache."""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
def run(hidden_states, weight, output):
    p_in = hidden_states.data_ptr()
    p_out = output.data_ptr()
    x = hidden_states.float()
    y = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype)
    if p_out == p_in:
        y = y.clone()
    output.copy_(y)
