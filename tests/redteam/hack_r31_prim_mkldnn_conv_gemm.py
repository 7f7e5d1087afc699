"""Red-team round 31, as01 (attack-as): a whole GEMM by TorchScript's interpreter-only operator
``torch.ops.prim.mkldnn_convolution`` (X @ W^T as a 1x1 convolution). Operators torch registers only with the JIT
interpreter run their C++ body when called from Python, with no dispatcher and no record: the record held only
``as_strided_``, ``empty`` and ``resize_``: PASSED, strict too (and as02 did a whole depthwise convolution so).
``torch.ops.prim`` is ``computed-name`` now, in every problem."""
import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "computed-name"
LAYER = "static"

_conv = torch.ops.prim.mkldnn_convolution  # HACK


def run(hidden_states, weight, output):
    m, k = hidden_states.shape
    n = weight.shape[0]
    y = _conv(hidden_states.float().t().reshape(1, k, m, 1), weight.float().reshape(n, k, 1, 1), None, [1, 1], [0, 0],
              [1, 1], 1)  # fmt: skip
    output.copy_(y.reshape(n, m).t())
