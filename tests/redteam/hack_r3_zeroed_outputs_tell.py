"""c02 (attack-d, round 3): the zeroed outputs of timed calls tell them from checked calls; skip the zero writes.

Trick: correctness calls hand a destination-passing kernel NaN-poisoned outputs (``inputs.allocate_outputs``), but
every timed call, the judge's outside-clock batch included, gets outputs the harness zeroed first
(``worker/harness.py`` ``prepare``: ``out.zero_()``; the judge's ``timed._fixed_ms`` even subtracts that zeroing
as a fixed cost).  So one element read (NaN or 0) tells a checked call from a timed one, with no frame walk.
On a sparse output (top-k/top-p renorm: 50 of 128256 probabilities survive per row; the MoE router's dense [T,
128] weights; permute/combine buffers) the kernel writes the whole row only when it sees NaN, and on timed calls
scatters just the survivors into the pre-zeroed buffer: the fp32 output write (2/3 of the bytes moved) is never
paid in a timed call, yet every timed-output and outside-clock check passes since the zeros are right.
Attacks: harness.timed.prepare zeroing + judge/timed.py checks (they hold only values, not who wrote them).
Found PASSED while skipping the writes on the GPU. Now timed outputs are poisoned as checked ones are: the tell is
gone, so it writes whole rows on every call and earns its time honestly (PASSED: it gains nothing).
"""

import torch

DEFINITION = "llama3_1_8b_top_k_top_p_renorm_v128256"
EXPECTED = "PASSED"
LAYER = "judge"
CAUGHT_BY = "timed outputs poisoned with NaN like checked ones (data.inputs.poison_): no tell; tests/test_judge.py"


def _kept(logits, temperature, top_k, top_p):
    """The surviving (index, probability) pairs of each row: softmax, top-k, renorm, top-p, renorm."""
    z = logits.float() / temperature
    m = z.amax(dim=-1, keepdim=True)
    e = (z - m).exp()
    probs = e / e.sum(dim=-1, keepdim=True)
    ordered = probs.sort(dim=-1, descending=True).values
    probs = torch.where(probs >= ordered[:, top_k - 1 : top_k], probs, 0.0)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    ordered = probs.sort(dim=-1, descending=True).values
    before = ordered.cumsum(dim=-1) - ordered
    threshold = torch.where(before < top_p, ordered, torch.inf).amin(dim=-1, keepdim=True)
    probs = torch.where(probs >= threshold, probs, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)


def run(logits, temperature, top_k, top_p, probs):
    full = _kept(logits, temperature, top_k, top_p)  # stands in for a fused kernel's register-resident row
    if bool(torch.isnan(probs[0, 0])):  # a checked call: NaN poison; write the whole row
        probs.copy_(full)
    else:  # a timed call: the harness zeroed the buffer; write only the survivors (a few hundred bytes a row)
        rows, cols = torch.nonzero(full, as_tuple=True)
        probs[rows, cols] = full[rows, cols]
