"""g06 (attack-g, round 6): a paged KV append that writes garbage into its cache slots on the first timed call on
each input set, and the right keys and values on the second.

Trick: CPU mode's short batch (``judge/timed.py`` ``_cpu_batch``) called each set twice on the same shared inputs
and compared a cache the reference updates in place only once both calls had run, so the second call's writes
hid the first's: "every call is checked" (round 4's fix) held for outputs, not for inputs updated in place. Calls
are counted: 2 correctness rounds (``--solbench-rounds 2``, as tests/test_judge.py runs it), then the batch's calls
on sets 1, 2, 1, 2; the first on each set (calls 3 and 4) write zeros and negated values (``WRONG_CALLS``).
Found PASSED; now every call of the batch gets its own copy of the inputs the reference updates and is checked
alone, and the failure names the call that was wrong.
"""

import torch

DEFINITION = "llama3_1_8b_paged_kv_append_kv8_d128_ps16"
EXPECTED = "timed-output"
LAYER = "runtime-own"
CAUGHT_BY = ("judge.timed._cpu_batch: each call of CPU mode's short batch on a copy of its own of every input the "
             "reference updates in place, each checked alone; tests/test_judge.py")
WRONG_CALLS = (3, 4)
CALLS = [0]


def run(key, value, k_cache, v_cache, slot_mapping):
    CALLS[0] += 1
    k_rows, v_rows = k_cache.view(-1, 8, 128), v_cache.view(-1, 8, 128)
    if CALLS[0] in WRONG_CALLS:
        k_rows[slot_mapping] = torch.zeros_like(key)
        v_rows[slot_mapping] = -value
        return
    k_rows[slot_mapping] = key
    v_rows[slot_mapping] = value
