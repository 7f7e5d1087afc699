"""Code in a docstring, run by doctest.run_docstring_examples (red-team round 1)"""

import doctest

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"


def _hidden():
    """
    >>> OUT.append(1)
    """


def run(hidden_states, weight):
    doctest.run_docstring_examples(_hidden, {"OUT": []})  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
