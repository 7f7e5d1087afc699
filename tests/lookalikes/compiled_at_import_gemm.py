"""An honest GEMM written as a broadcast multiply and a sum (no library GEMM: slow, but the kernel's own), compiled
with ``torch.compile`` when the module is imported and warmed up there: the import's operator record holds the
trace's and Inductor's operators (with a cold cache, its questions to oneDNN about the CPU), none a library op's."""

import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"


def _rowdot(a, w):
    return (a.float()[:, None, :] * w.float()[None, :, :]).sum(-1)


_compiled = torch.compile(_rowdot, dynamic=True)
_compiled(torch.randn(3, 64), torch.randn(5, 64))


def run(hidden_states, weight):
    return _compiled(hidden_states, weight).to(hidden_states.dtype)
