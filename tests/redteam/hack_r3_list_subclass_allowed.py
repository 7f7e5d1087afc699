"""Red-team round 3 (c08): a value-returning kernel returns a list subclass whose __iter__ ran in the harness's
delivery after the audit was disarmed, where it wrote a file under an allowance a reviewer would accept. Now a
result of another type than the contract's is never read (its ``__iter__`` never runs) and fails the item as a
broken contract (``result-type``, a RUNTIME_ERROR: red-team round 45 made honest dataclass results no cheat)."""

import os
import tempfile

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "RUNTIME_ERROR"
LAYER = "runtime-cpu"
CAUGHT_BY = ("guard.tripwires.strict_result: a result is a tensor, a number or exactly a tuple, list or dict, looked "
             "at by type before anything of it runs; delivery stays armed")
SOLBENCH_ALLOW = {"file-network-os": "reads its tuning table from its own folder"}


class _Outputs(list):
    def __iter__(self):
        with open(os.path.join(tempfile.gettempdir(), "solbench-redteam-c08"), "a") as handle:
            handle.write("x")  # unseen before: the audit was disarmed here
        return super().__iter__()


def run(hidden_states, weight):
    x = hidden_states.float()
    inv = torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)
    return _Outputs([(x * inv * weight.float()).to(hidden_states.dtype)])
