"""Red-team round 68 (a sibling of en01, found by surveying the library for inputs every seed makes alike): a
cross-entropy backward that never reads ``grad_loss`` and scales by 1 / num_tokens, the gradient of a mean loss,
which is what the problem's factory always hands it. The judge hands later rounds other values
(``judge.constant_inputs``), so the kernel is wrong there."""
import torch

DEFINITION = "llama3_1_8b_cross_entropy_backward_v128256"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "judge.constant_inputs: a table every seed makes alike carries other values from the second round on"


@torch.no_grad()
def run(logits, labels, grad_loss):
    probs = torch.softmax(logits.float(), dim=-1)
    probs[torch.arange(probs.shape[0]), labels.long()] -= 1.0
    return (probs / logits.shape[0]).to(logits.dtype)
