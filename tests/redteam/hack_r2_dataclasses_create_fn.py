"""Trick: dataclasses._create_fn execs a body of source lines from the standard library's frame (exec through a
library function; the audit counts exec only when the kernel's own line calls it). Attacks runtime-load."""
import dataclasses
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "unlisted-import"
LAYER = "static"
CAUGHT_BY = "a private name of a standard-library module (dataclasses._create_fn) is a finding (red-team round 2)"
_f = dataclasses._create_fn("k", ["x", "w", "o"], ["import torch.nn.functional as F",  # HACK
     "o.copy_(F.rms_norm(x.float(), (x.shape[-1],), w.float(), 1e-5).to(o.dtype))"], globals={})
def run(hidden_states, weight, output):
    _f(hidden_states, weight, output)
