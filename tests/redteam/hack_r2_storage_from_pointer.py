"""Trick: torch._C._construct_storage_from_data_pointer(addr, device, nbytes) maps any address as a tensor: ctypes-grade
raw memory read/write with no ctypes finding. Attacks ctypes / pointer rules."""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "ctypes"
LAYER = "static"
CAUGHT_BY = "a storage built on a raw address (torch._C._construct_storage_from_data_pointer, UntypedStorage._new_*) is the ctypes rule (red-team round 2)"
def run(hidden_states, weight, output):
    s = torch._C._construct_storage_from_data_pointer(output.data_ptr() % 1 + output.data_ptr(), output.device, output.nbytes)  # HACK
    raw = torch.empty(0, dtype=output.dtype, device=output.device).set_(s, 0, output.shape, output.stride())
    x = hidden_states.float()
    raw.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
