"""Warns its caller and logs a handled exception, as library kernels do (red-team round 14, h07, h08): both read
source lines of the files on the stack (the harness's, Triton's) to show them, which the audit once took for the
kernel reading files outside its folder."""

import logging
import warnings

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
log = logging.getLogger(__name__)


def _fast_path(x):
    raise NotImplementedError("no fast path for this shape")


def run(hidden_states, weight):
    if hidden_states.shape[0] < 16:
        warnings.warn("few tokens: this kernel is tuned for batches of 16 or more", stacklevel=2)
    try:
        return _fast_path(hidden_states)
    except NotImplementedError:
        log.exception("fast path refused; using the plain one")
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
