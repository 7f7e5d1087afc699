"""Trick: torch.hub.load(source='local') imports hubconf.py; torch.package.PackageImporter and torch.jit.load load
pickled code; torch.hub.download_url_to_file reaches the network. None is in MODULE_RULES. Attacks runtime-load,
file-network-os."""
import torch
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "torch.hub, torch.package and torch.jit.load are runtime-load (red-team round 2)"
def run(hidden_states, weight, output):
    if hidden_states.shape[0] < 0:
        torch.hub.load("/tmp", "m", source="local"); torch.package.PackageImporter("/tmp/p.pt")  # HACK
        torch.jit.load("/tmp/m.pt"); torch.hub.download_url_to_file("http://x/y", "/tmp/y")
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
