"""Per-token cross-entropy over Llama-3.1-8B's vocabulary: logsumexp(logits) - logits[label], in fp32."""

import torch


@torch.no_grad()
def run(logits, labels):
    x = logits.float()
    return torch.logsumexp(x, dim=-1) - x.gather(1, labels.long()[:, None])[:, 0]


VOCAB = 128256


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    inputs = {
        "logits": torch.randn(num_tokens, VOCAB, device=device).to(torch.bfloat16),
        "labels": torch.randint(0, VOCAB, (num_tokens,), device=device),
    }
    return inputs
