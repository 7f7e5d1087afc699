"""Red-team round 43 (attack-bu), honest look-alike: ``functools.wraps`` applied to ``torch.compile`` of the kernel's own function: the wrapper is the kernel's own, so
nothing imported is changed (round 42's rule refused it)."""
import functools
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_silu_and_mul_i14336"


def _impl(gate_up):
    """silu(gate) * up, fp32 math, one rounding."""
    gate, up = gate_up.float().chunk(2, dim=-1)
    return (gate / (1 + torch.exp(-gate)) * up).to(gate_up.dtype)


_fast = functools.wraps(_impl)(torch.compile(_impl, dynamic=True))


def run(gate_up):
    return _fast(gate_up)
