"""Gemma-2 LM head with final logit soft-capping: 30 * tanh(x @ W.T / 30), fp32 accumulation, bf16 out."""

import torch

SOFTCAP, HIDDEN = 30.0, 3584


@torch.no_grad()
def run(hidden_states, lm_head):
    logits = hidden_states.float() @ lm_head.float().t()
    return (SOFTCAP * torch.tanh(logits / SOFTCAP)).to(hidden_states.dtype)


def make_inputs(axes_and_scalars, device):
    num_tokens, vocab_rows = axes_and_scalars["num_tokens"], axes_and_scalars["vocab_rows"]
    return {
        "hidden_states": torch.randn(num_tokens, HIDDEN, device=device).to(torch.bfloat16),
        "lm_head": (torch.randn(vocab_rows, HIDDEN, device=device) * (10 / HIDDEN**0.5)).to(torch.bfloat16),
    }
