"""Trick: enum.bltns is the builtins module under another name (enum does `import builtins as bltns`); 'bltns' is not in
REEXPORTED, so enum.bltns.exec / open / __import__ / getattr escape runtime-load, file-network-os, computed-name.
Here: F from collections._sys.modules, then the vendor rms_norm through a computed getattr. Attacks
runtime-load, computed-name, vendor-op, unlisted-import (the import goes round the allow-list)."""
import collections
import enum
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "guard.names.lookup: enum.bltns is builtins, so enum.bltns.exec is builtins.exec (red-team round 2)"


def run(hidden_states, weight, output):
    F = collections._sys.modules["torch.nn.functional"]
    fn = enum.bltns.getattr(F, "rms" + "_norm")
    if hidden_states.shape[0] < 0:
        enum.bltns.exec("pass"); enum.bltns.open("/dev/shm/x", "w"); enum.bltns.eval("1"); enum.bltns.compile("1", "f", "eval")  # HACK
    output.copy_(fn(hidden_states.float(), (hidden_states.shape[-1],), weight.float(), 1e-5).to(output.dtype))
