"""Red-team round 43 (attack-bu), honest look-alike: a class-based decorator that calls ``functools.update_wrapper(self, fn)``: the wrapper is the kernel's own, so
nothing imported is changed (round 42's rule refused it)."""
import functools
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


class checked:
    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*[a.contiguous() for a in args])


@checked
def run(hidden_states, weight):
    xf = hidden_states.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
