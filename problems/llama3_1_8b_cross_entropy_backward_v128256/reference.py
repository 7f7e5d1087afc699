"""Backward of per-token cross-entropy: (softmax(logits) - one_hot(labels)) * grad_loss, in fp32, rounded to bf16."""

import torch


@torch.no_grad()
def run(logits, labels, grad_loss):
    probs = torch.softmax(logits.float(), dim=-1)
    one_hot = torch.zeros_like(probs).scatter_(1, labels.long()[:, None], 1.0)
    return ((probs - one_hot) * grad_loss.float()[:, None]).to(logits.dtype)


VOCAB = 128256


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    inputs = {
        "logits": torch.randn(num_tokens, VOCAB, device=device).to(torch.bfloat16),
        "labels": torch.randint(0, VOCAB, (num_tokens,), device=device),
    }
    inputs["grad_loss"] = torch.full((num_tokens,), 1.0 / num_tokens, device=device)
    return inputs
