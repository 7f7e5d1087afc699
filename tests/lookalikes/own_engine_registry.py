"""Honest (red-team round 65, attack-ei): a softmax keeps ``ENGINES = {dtype: Fp32Engine(), ...}`` and calls
``ENGINES[logits.dtype].softmax(logits)``, its own engines' methods. The rules read the name as a tensor's vendor
method; an attribute name the kernel's own sources bind is taken for its own, and the operator record judges a
tensor's at run time (``guard.owned.kernel_attributes``)."""
import torch

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


class Fp32Engine:
    def softmax(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        e = (x - x.amax(-1, keepdim=True)).exp_()
        return e.div_(e.sum(-1, keepdim=True))


ENGINES = {torch.bfloat16: Fp32Engine(), torch.float16: Fp32Engine(), torch.float32: Fp32Engine()}


def run(logits: torch.Tensor, probs: torch.Tensor) -> None:
    probs.copy_(ENGINES[logits.dtype].softmax(logits))
