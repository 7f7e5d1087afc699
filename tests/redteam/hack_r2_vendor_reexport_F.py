"""Trick: vendor-op via a torch module that re-exports torch.nn.functional as F
(torch.nn.modules.normalization.F.rms_norm). REEXPORTED only knows whole module names, 'F' is an alias. Attacks vendor-op."""
import torch
from torch.nn.modules.normalization import F as G
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "a dotted name is read by what its modules are (guard.names.lookup): torch.nn.modules.normalization.F is torch.nn.functional (red-team round 2)"
def run(hidden_states, weight, output):
    output.copy_(G.rms_norm(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(output.dtype))  # HACK
