"""Honest (a false positive of red-team round 1, now passing): an honest reusable fp32 workspace whose capacity is kept as untyped_storage().nbytes(): pointers.py
counts untyped_storage among identity methods, so storing a byte count in an attribute is `pointer-cache`.
"""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
class _Workspace:
    def __init__(self):
        self.buf = torch.empty(0)
        self.capacity = 0
    def get(self, n):
        if n * 4 > self.capacity:
            self.buf = torch.empty(n)
            self.capacity = self.buf.untyped_storage().nbytes()
        return self.buf[:n]
_WS = _Workspace()
def run(hidden_states, weight):
    x = _WS.get(hidden_states.numel()).view(hidden_states.shape)
    x.copy_(hidden_states)
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
