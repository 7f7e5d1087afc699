"""Token embedding lookup: one row of the table per token id."""

import torch
import torch.nn.functional as F

HIDDEN = 4096


@torch.no_grad()
def run(input_ids, weight):
    return F.embedding(input_ids, weight)


def token_ids(num_tokens, vocab_rows, device):
    """Token ids with Zipf frequencies (the r-th most frequent token drawn with weight 1/r, as words are in text)
    over a random order of the vocabulary: frequent tokens repeat and lie scattered over the table."""
    weights = 1.0 / torch.arange(1, vocab_rows + 1, dtype=torch.float64)
    ranks = torch.multinomial(weights, num_tokens, replacement=True)
    return torch.randperm(vocab_rows)[ranks].to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    vocab_rows = axes_and_scalars["vocab_rows"]
    return {
        "input_ids": token_ids(axes_and_scalars["num_tokens"], vocab_rows, device),
        "weight": torch.randn(vocab_rows, HIDDEN, dtype=torch.bfloat16, device=device),
    }
