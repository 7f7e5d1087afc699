"""Red-team round 55, de FV-2: ``@torch.no_grad()`` over a ``custom_op`` (honest): read by the operator's schema now (``data.entry_points``)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"


@torch.no_grad()
@torch.library.custom_op("de02::rmsnorm", mutates_args=(), device_types=("cpu", "cuda"))
def run(hidden_states: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight.float()).to(hidden_states.dtype)
