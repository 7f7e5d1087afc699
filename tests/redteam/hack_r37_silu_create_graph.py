"""Red-team round 37, be01 (attack-be): round 36 let a backward op type's forward activation pass as a part (only
kernels named ``*_backward`` refused), and autograd with ``create_graph=True`` differentiates ``F.silu`` by its
composite double-differentiable formula (sigmoid, mul, add), never dispatching ``silu_backward``: the library did
the whole SwiGLU backward and it PASSED under strict (the same for RMSNorm's backward, and a whole SwiGLU MLP
backward). Round 36's change is undone: the forward is the family's op in its backward too."""
import torch
import torch.nn.functional as F

DEFINITION = "llama3_1_8b_silu_and_mul_backward_i14336"
EXPECTED = "vendor-op"
LAYER = "static"


def run(grad_output, gate_up):
    with torch.enable_grad():
        gu = gate_up.float().detach().requires_grad_(True)
        gate, up = gu.chunk(2, dim=-1)
        y = F.silu(gate) * up  # HACK
        (g,) = torch.autograd.grad(y, (gu,), grad_output.float(), create_graph=True)
    return g.detach().to(gate_up.dtype)
