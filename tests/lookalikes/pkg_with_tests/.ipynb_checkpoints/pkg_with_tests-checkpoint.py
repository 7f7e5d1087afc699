"""Jupyter's saved draft of the kernel, which compared against the vendor's op."""
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    return F.rms_norm(hidden_states.float(), (4096,), weight.float(), eps=1e-5).to(hidden_states.dtype)
