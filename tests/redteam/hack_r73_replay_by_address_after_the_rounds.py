"""Red-team round 73, fa01 to fa08 (attack-fa; strict, each with the address in a spelling the static pointer-cache
rule missed: a CRT of small moduli, a helper's parameter, a size attribute of a call, getattr by a constant name):
a kernel that keeps its outputs by its inputs' addresses and replays them, but only after its fifth call. The
correctness rounds, which reuse addresses with new values, never saw a replay; the CPU batch's second calls on each
set and the untimed call after them reuse each set's address with the same values, so every replay was right. Now
the first call after the timed ones is on new values, shared as the timed calls' inputs were (the kernel's process
maps them where it saw a timed set's): the replay returns the old values' outputs. Here with the guard off, the
address plain: the static rule is not what holds it."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "judge.timed._calls_after: the first call after the timed ones is on new values (AFTER_ROUND)"

ROUNDS = 5  # the plugin's default correctness rounds: replays begin after them
_results = {}
_calls = []


def run(hidden_states, weight, output):
    _calls.append(1)
    key = (hidden_states.data_ptr(), weight.data_ptr())
    if len(_calls) > ROUNDS and key in _results:
        output.copy_(_results[key])
        return
    x = hidden_states.float()
    out = (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
    if len(_calls) > ROUNDS:
        _results[key] = out
    output.copy_(out)
