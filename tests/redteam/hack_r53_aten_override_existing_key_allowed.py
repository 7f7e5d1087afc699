"""Red-team round 53 (found while closing round 52), with allowances for ``computed-name``, ``patching`` and ``pointer-cache``: a kernel
of its own registered over torch's for ``aten::fill_.Scalar`` on the CPU key, which already had one (so no new name
among the key's registrations, which is all round 52 read). The harness poisons a timed call's outputs with
``fill_`` outside the timed window: there the kernel's ``fill_`` did the kernel's whole work on the inputs it had
seen with that output in an earlier call, and ``run`` skipped its work where the output was already written (timed
calls did none; PASSED on CPU before this fix, where only the GPU's scores would tell). The dispatch
tables of the operators the harness calls are held from before the import (``guard.dispatch_state.overridden``)."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "patching"
LAYER = "runtime-cpu"
CAUGHT_BY = "guard.dispatch_state"
SOLBENCH_ALLOW = {"computed-name": "red-team: the run time must catch it", "patching": "red-team: the run time must catch it",
                  "pointer-cache": "red-team: the run time must catch it"}
_PAIRS = {}  # the output's address: its inputs, from an earlier call on the same set
_WRITTEN = {}  # the output's address: the first row of the inputs its poisoning computed from


def _fill(t, value):
    pair = _PAIRS.get(t.data_ptr())
    if pair is not None and t.dtype == torch.bfloat16:
        x, w = pair
        t.copy_(_norm(x, w).to(t.dtype))
        _WRITTEN[t.data_ptr()] = x[0].clone()
    else:
        t.copy_(torch.tensor(value, dtype=t.dtype).expand(t.shape))
    return t


_LIB = torch.library.Library("aten", "IMPL")
_LIB.impl("fill_.Scalar", _fill, "CPU")


def _norm(x, w):
    x = x.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()


def run(hidden_states, weight, output):
    _PAIRS[output.data_ptr()] = (hidden_states, weight)
    row = _WRITTEN.pop(output.data_ptr(), None)
    if row is not None and torch.equal(row, hidden_states[0]):
        return  # written by the poisoning, from these inputs
    output.copy_(_norm(hidden_states, weight).to(output.dtype))
