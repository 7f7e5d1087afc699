"""Red-team round 42, bp02 (attack-bp): round 40's allow-list of torch's modules judged only modules, and
``torch.distributions.SoftmaxTransform`` is a class the package re-exports: a whole softmax passed under strict on
CPU (and a MoE router's second library part, and a cross-entropy backward: bp04, bp05). Now a re-exported name is
judged by the module that defines it (``torch.distributions.transforms``)."""
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"
EXPECTED = "unlisted-routine"
LAYER = "static"
_T = torch.distributions.SoftmaxTransform()  # HACK


@torch.no_grad()
def run(logits):
    return _T(logits.float())
