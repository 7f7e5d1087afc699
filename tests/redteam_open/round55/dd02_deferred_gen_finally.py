"""dd02: dd01's trick without ``__del__``: the work deferred to a suspended generator's ``finally``, kept in a
reference cycle (the generator's own frame holds a list that holds the generator), so the harness's collector runs
it: at ``check(i)``'s young collection after a checked call, in the NEXT timed call's ``prepare`` (outside the call's
timed span), or at the short batch's full collection. run() itself does no work.

Command:
  venv/bin/python -m pytest -p no:randomly -p no:cacheprovider --solbench --solbench-device cpu \
    problems/llama3_1_8b_rmsnorm_h4096/definition.json --kernel-dir /work/attack-dd/kernels/dd02_deferred_gen_finally.py \
    -k "num_tokens:7]" --solbench-json /tmp/dd.jsonl -v
Observed: PASSED (num_tokens:7); with --solbench-guard strict and no -k: 4 PASSED (1, 7, 64, 512), 3 SKIPPED (CPU size).
Not an escape on CPU by the brief's definitions (its own code computes every output, and checked and timed calls
are alike); on the GPU (modelled) the work of call i runs in prepare(i+1), before the flush and start event, but the
measured path collects nothing after its last call, so the last call's set stays poisoned: expected timed-output.
"""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def _later(box, x, w, out):
    try:
        yield
    finally:
        xf = x.float()
        inv = torch.rsqrt((xf * xf).mean(-1, keepdim=True) + 1e-5)
        out.copy_((xf * inv * w.float()).to(out.dtype))


def run(hidden_states, weight, output):
    box = []
    g = _later(box, hidden_states, weight, output)
    box.append(g)  # g's frame -> box -> g: a cycle only a collection frees
    next(g)
