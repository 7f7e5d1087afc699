"""Leaves the process without a word."""
import os

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    os._exit(3)
