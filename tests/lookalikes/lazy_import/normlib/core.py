"""The root mean square, with the same epsilon as the reference."""

import torch


def rms(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)
