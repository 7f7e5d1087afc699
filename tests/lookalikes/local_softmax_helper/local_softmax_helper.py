"""Honest (a false positive of red-team round 1, now passing): an honest softmax whose implementation lives in a helper module kern.py as `kern.softmax(x)`
(online max/exp/sum written out). rules._check_call treats any unresolved `.softmax(...)` call as the vendor method -
and a local module's names are never resolved - so the kernel's own function is `vendor-op`.
"""
import kern
DEFINITION = "llama3_1_8b_logits_softmax_v128256"
def run(logits):
    return kern.softmax(logits)
