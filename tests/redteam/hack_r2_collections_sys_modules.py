"""Trick: collections._sys is sys under a private alias; collections._sys.modules['torch.nn.functional'].rms_norm
reaches the vendor op and sys.modules with no rule firing (REEXPORTED has 'sys', not '_sys'; subscript not resolved).
Attacks vendor-op / patching (sys.modules)."""
import collections
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "static"
CAUGHT_BY = "guard.names.lookup: collections._sys is sys, so collections._sys.modules is sys.modules (red-team round 2)"
def run(hidden_states, weight, output):
    F = collections._sys.modules["torch.nn.functional"]  # HACK
    output.copy_(F.rms_norm(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(output.dtype))
