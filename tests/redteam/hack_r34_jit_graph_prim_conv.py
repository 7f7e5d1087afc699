"""Red-team round 34, ax01 (attack-ax): a depthwise convolution by a node added by hand to a scripted function's
TorchScript graph: ``graph.create("prim::mkldnn_convolution", ...)`` (an op registered only with TorchScript's
interpreter), inserted before the return and made its value. The interpreter runs oneDNN's convolution with no
dispatcher, so the record held only ``as_strided_``, ``empty`` and ``resize_``: PASSED. The IR's editing methods are
refused by name now, and in the kernel's process (``worker.rewrites.GRAPH_EDITS``)."""
import torch

DEFINITION = "convnext_base_dwconv7x7_c128_h56"
EXPECTED = "computed-name"
LAYER = "static"


def _shell(x, w, b, st: list[int], pad: list[int], dil: list[int], g: int):
    return x + 0.0


_fn = torch.jit.script(_shell)
_g = _fn.graph
_ret = _g.return_node()
_node = _g.create("prim::" + "mkldnn_convolution", list(_g.inputs()), 1)
_node.insertBefore(_ret)  # HACK
_ret.replaceInput(0, _node.output())


def run(x, weight, bias):
    c, k = x.shape[1], weight.shape[-1]
    return _fn(x.float(), weight.float(), bias.float(), [1, 1], [k // 2, k // 2], [1, 1], c).to(x.dtype)
