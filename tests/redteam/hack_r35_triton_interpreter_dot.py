"""Red-team round 35, ba01 (attack-ba): a whole GEMM by the Triton interpreter's IR builder, a plain Python class:
``InterpreterBuilder().create_dot`` is ``np.matmul`` on the arrays its ``TensorHandle``s wrap, BLAS below torch's
dispatcher under a name no rule knew (triton is importable whole): PASSED under strict, on every workload; the same
route did an im2col depthwise convolution (ba02). Triton's interpreter, IR builders and compiler are a compiler's
internals now (``runtime-load``): kernels drive Triton through ``triton.jit``."""
import numpy as np
import torch
import triton.language as tl
from triton.runtime.interpreter import InterpreterBuilder, TensorHandle  # HACK

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "runtime-load"
LAYER = "static"

_B = InterpreterBuilder()


def run(hidden_states, weight):
    x = hidden_states.float().numpy()
    w = weight.float().numpy().T.copy()
    acc = np.zeros((x.shape[0], w.shape[1]), dtype=np.float32)
    out = _B.create_dot(TensorHandle(x, tl.float32), TensorHandle(w, tl.float32), TensorHandle(acc, tl.float32),
                        None, None)
    return torch.from_numpy(out.data).to(hidden_states.dtype)
