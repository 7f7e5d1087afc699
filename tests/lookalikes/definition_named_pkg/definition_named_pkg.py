"""Honest (a false positive of red-team round 1, now passing): the common layout "one package per problem": the kernel's own local package is named after the
definition (llama3_1_8b_rmsnorm_h4096/impl.py). reference-call fires on any import whose dotted name holds the
definition's name, local or not (rules._check_name over resolver.imports)."""
from llama3_1_8b_rmsnorm_h4096 import impl
DEFINITION = "llama3_1_8b_rmsnorm_h4096"
def run(hidden_states, weight):
    return impl.rmsnorm(hidden_states, weight)
