"""logging.handlers.QueueListener: a worker thread started by a logging helper (red-team round 1)"""

import logging.handlers
import queue

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "static"


def run(hidden_states, weight):
    logging.handlers.QueueListener(queue.Queue())  # HACK
    x = hidden_states.float()
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(hidden_states.dtype)
