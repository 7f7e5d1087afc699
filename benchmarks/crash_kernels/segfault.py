"""Dereferences a null pointer in native code: the worker dies with SIGSEGV."""
import ctypes

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    ctypes.string_at(0)
