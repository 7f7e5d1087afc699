"""CUDA graph replay keyed by pointer: the first call is captured, later calls on the same buffers replay it."""

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "cuda-graph"
LAYER = "static"

_graphs = {}


def run(hidden_states, weight, output):
    key = hidden_states.data_ptr()
    if key not in _graphs:
        graph = torch.cuda.CUDAGraph()  # HACK
        with torch.cuda.graph(graph):
            x = hidden_states.float()
            output.copy_(x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float())
        _graphs[key] = graph
    _graphs[key].replay()
