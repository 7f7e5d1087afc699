"""A GEMM problem's whole op done by cuBLAS, out of the calls' operator record: the GEMMs are captured into CUDA
graphs when the module is imported, and each call only copies its inputs into the graph's buffers and replays it.
The record of every checked call holds copies and a clone; the replayed GEMM never enters torch's dispatcher. The
static rules that name both tricks are allowed in writing (a kernel may allow a rule), and ``vendor-op``, whose
allowance would switch the run-time judgement off, is not."""

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "runtime-gpu"
CAUGHT_BY = ("the operator record of the kernel's import (worker.harness.load, judged by Kernel.load): capturing "
             "the graph dispatches aten::mm; its replays, each call's, the GPU's witness would see")
SOLBENCH_ALLOW = {"cuda-graph": "the test of the GPU's witness to library work",
                  "computed-name": "the test of the GPU's witness to library work"}

_GEMM = getattr(torch, "m" + "m")
_GRAPHS = {}
if torch.cuda.is_available():
    _W = torch.zeros(6144, 4096, device="cuda", dtype=torch.bfloat16)
    for n in (1, 7, 64, 256, 1024, 4096, 8192):
        x = torch.zeros(n, 4096, device="cuda", dtype=torch.bfloat16)
        _GEMM(x, _W.t())  # cuBLAS's handle and workspace made before the capture
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = _GEMM(x, _W.t())
        _GRAPHS[n] = (graph, x, out)


def run(hidden_states, weight):
    graph, x, out = _GRAPHS[hidden_states.shape[0]]
    x.copy_(hidden_states)
    _W.copy_(weight)
    graph.replay()
    return out.clone()
