"""Red-team round 74, fd02 (attack-fd; strict, PASSED at round 73): a replay keyed by the memory itself, not its
address or values. Every input tensor is kept (its mapping stays), and a call whose inputs are the same memory as a
kept call's (a one-byte write probe: flip a byte of the new input, see whether the kept tensor shows it, put it back)
replays that call's output. The CPU batch's two calls on a set map one memfd twice, so the second replayed, rightly;
round 73's new values came in memfds of their own. They are written into the first timed set's own memory now, and
the replay returns the old values there."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "judge.timed._calls_after: the new values after the timed calls go into the first timed set's own memory"

_KEPT = []  # (hidden_states, weight, output computed): their mappings stay
REPLAYED = []


def _compute(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)


def _same_memory(kept, new):
    if kept.shape != new.shape or kept.dtype != new.dtype:
        return False
    a = kept.reshape(-1).view(torch.uint8)
    b = new.reshape(-1).view(torch.uint8)
    for flip in (0x5A, 0xA5):
        old = int(b[0])
        b[0] = old ^ flip
        seen = int(a[0])
        b[0] = old
        if seen != old ^ flip:
            return False
    return True


def run(hidden_states, weight, output):
    for x, w, out in _KEPT:
        if _same_memory(x, hidden_states) and _same_memory(w, weight):
            REPLAYED.append(1)
            output.copy_(out)
            return
    out = _compute(hidden_states, weight)
    _KEPT.append((hidden_states, weight, out))
    output.copy_(out)
