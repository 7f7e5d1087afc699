"""Red-team round 34, ax02 (attack-ax): ax01's added TorchScript node for a whole GEMM, as a 1x1 convolution (x
[M, K] viewed as a [1, K, M, 1] image, the weight as N filters of 1x1): PASSED on every workload with ``--solbench-guard
strict``. Refused by name now, and in the kernel's process (``worker.rewrites.GRAPH_EDITS``)."""
import torch

DEFINITION = "deepseek_v2_lite_kv_a_proj_with_mqa_n576_k2048"
EXPECTED = "computed-name"
LAYER = "static"


def _shell(x, w, b, st: list[int], pad: list[int], dil: list[int], g: int):
    return x + 0.0


_fn = torch.jit.script(_shell)
_g = _fn.graph
_ret = _g.return_node()
_node = _g.create("prim::mkldnn_convolution", list(_g.inputs()), 1)
_node.insertBefore(_ret)  # HACK
_ret.replaceInput(0, _node.output())


def run(hidden_states, weight, output):
    m, k = hidden_states.shape
    n = weight.shape[0]
    img = hidden_states.float().t().contiguous().view(1, k, m, 1)
    y = _fn(img, weight.float().contiguous().view(n, k, 1, 1), torch.zeros(n), [1, 1], [0, 0], [1, 1], 1)
    output.copy_(y.view(n, m).t())
