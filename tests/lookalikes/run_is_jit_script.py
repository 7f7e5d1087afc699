"""Red-team round 55, de FV-5: a ``torch.jit.script`` function returning its result (it was called with an output too: RUNTIME_ERROR) (honest): read by the operator's schema now (``data.entry_points``)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"


@torch.jit.script
def run(hidden_states: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight.float()).to(hidden_states.dtype)
