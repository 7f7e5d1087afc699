"""A GEMM problem's whole op done by cuBLAS below torch's operator record: ``OpOverload.redispatch`` with the CUDA
dispatch key enters the GEMM's CUDA kernel without the dispatcher's RecordFunction, so the record of every checked
call holds no ``aten::mm`` (red-team round 24 found the door; its static rule, ``computed-name``, is allowed here in
writing, as a kernel may). ``vendor-op``, whose allowance would switch the run-time judgement off, is not allowed."""

import torch

DEFINITION = "llama3_1_8b_qkv_proj_n6144_k4096"
EXPECTED = "vendor-op"
LAYER = "runtime-gpu"
CAUGHT_BY = ("the GPU's witness (guard.vendor_kernels): the checked calls launched cuBLAS's GEMM kernels, which no "
             "operator of their record accounts for")
SOLBENCH_ALLOW = {"computed-name": "the test of the GPU's witness to library work"}

_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.CUDA)
_GEMM = getattr(torch.ops.aten, "m" + "m").default


def run(hidden_states, weight):
    return _GEMM.redispatch(_KEYS, hidden_states, weight.t())
