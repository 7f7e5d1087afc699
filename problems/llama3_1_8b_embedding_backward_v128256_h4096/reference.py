"""Token embedding backward: each token's output gradient added into its table row, in fp32; rows of tokens not
in the batch are zero."""

import torch

HIDDEN = 4096


@torch.no_grad()
def run(grad_output, input_ids, num_embeddings):
    grad_weight = torch.zeros(num_embeddings, HIDDEN, dtype=torch.float32, device=grad_output.device)
    return grad_weight.index_add_(0, input_ids.long(), grad_output.float())


def token_ids(num_tokens, vocab_rows, device):
    """Token ids with Zipf frequencies (the r-th most frequent token drawn with weight 1/r, as words are in text)
    over a random order of the vocabulary: frequent tokens repeat and lie scattered over the table."""
    weights = 1.0 / torch.arange(1, vocab_rows + 1, dtype=torch.float64)
    ranks = torch.multinomial(weights, num_tokens, replacement=True)
    return torch.randperm(vocab_rows)[ranks].to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_tokens, vocab_rows = axes_and_scalars["num_tokens"], axes_and_scalars["vocab_rows"]
    return {
        "grad_output": torch.randn(num_tokens, HIDDEN, dtype=torch.bfloat16, device=device),
        "input_ids": token_ids(num_tokens, vocab_rows, device),
        "num_embeddings": vocab_rows,
    }
