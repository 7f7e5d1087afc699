"""Red-team round 54, db (honest): the entry point is the author's ``torch.library.custom_op`` (an opaque op for ``torch.compile``), with a ``register_fake``. Its ``__call__`` takes ``*args``: COMPILE_ERROR (the signature could
not tell destination passing); the operator's schema tells now (``data.entry_points._op_schema``)."""
import torch

DEFINITION = "deepseek_v3_rmsnorm_h7168"


@torch.library.custom_op("dbk15::rmsnorm", mutates_args=(), device_types=("cpu", "cuda"))
def run(hidden_states: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * weight.float()).to(hidden_states.dtype)


@run.register_fake
def _(hidden_states, weight):
    return torch.empty_like(hidden_states)
