"""Red-team round 18, fv1 (a false verdict, now passing): value-returning entry point wrapped by the author's own checking decorator written
without functools.wraps (a generic *args wrapper), as many utility decorators are."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def contiguous_inputs(fn):
    def wrapper(*args):
        return fn(*[a.contiguous() for a in args])
    return wrapper


@contiguous_inputs
def run(hidden_states, weight):
    xf = hidden_states.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
