"""Gemma-3-27B: top-k then top-p of softmax(logits / temperature), renormalized; ties at a cut-off kept."""

import torch

VOCAB = 262208


@torch.no_grad()
def run(logits, temperature, top_k, top_p):
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    ordered = probs.sort(dim=-1, descending=True).values
    probs = torch.where(probs >= ordered[:, top_k - 1 : top_k], probs, 0.0)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    ordered = probs.sort(dim=-1, descending=True).values
    mass_before = ordered.cumsum(dim=-1) - ordered  # mass of the tokens ranked above each one
    threshold = torch.where(mass_before < top_p, ordered, torch.inf).amin(dim=-1, keepdim=True)
    probs = torch.where(probs >= threshold, probs, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)


def make_inputs(axes_and_scalars, device):
    batch_size = axes_and_scalars["batch_size"]
    logits = (2.5 * torch.randn(batch_size, VOCAB, device=device)).to(torch.bfloat16)
    return {"logits": logits, "temperature": 1.0, "top_k": 64, "top_p": 0.95}
