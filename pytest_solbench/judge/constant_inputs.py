"""Inputs every seed makes alike, and their other values in later correctness rounds.

A problem may hand a kernel a table its model keeps fixed: RoPE's cos/sin cache, a mean loss's gradient of 1/N
(custom factories make them the same whatever the seed). A kernel can then ignore the input and compute the table
itself from constants it knows (red-team round 67, en01), and no number of rounds shows it. So the judge finds such
inputs by their values (the first round's, sampled, seen again in a later round) and, from the second round on,
hands the kernel the table scaled element by element by a factor in [1 - SPREAD, 1 + SPREAD]: the reference runs on
the same values, so only a kernel that does not read the input fails.

Floating inputs of 16 bits or more only (an index or offsets table must keep its values to stay valid; an fp8 or
fp4 table would leave its grid). A problem whose input must keep
its exact values (a Hadamard matrix a fast transform may assume) names it in a tag, ``solbench:fixed:<input>``; a
reference that cannot run on the other values (it raises, or gives NaN or Inf where it did not) makes the judge
hand the kernel the table as made, for the rest of the item.
"""

from __future__ import annotations

from typing import Any, Sequence

SAMPLES = 64  # values sampled (evenly spaced) for the fingerprint, beside the shape
SPREAD = 0.25  # the factor's range: a quarter either way, far above any dtype's tolerance
FIXED_TAG = "solbench:fixed:"


def fixed_names(tags: Sequence[str]) -> frozenset[str]:
    """The inputs a definition's tags keep at their values."""
    return frozenset(t[len(FIXED_TAG):] for t in tags if t.startswith(FIXED_TAG))


def fingerprint(value: Any) -> tuple | None:
    """A floating tensor's shape and a few of its values (evenly spaced), or None for anything else."""
    import torch

    if not isinstance(value, torch.Tensor) or not value.is_floating_point() or value.element_size() < 2:
        return None  # 8-bit floats (fp8, e8m0, packed fp4) cannot be scaled on their grids, nor fp4 indexed
    flat = value.detach().reshape(-1)
    n = flat.numel()
    if n < 2:
        return None
    k = min(n, SAMPLES)  # evenly spaced, in integers (a float32 linspace rounds past the end above 2^24 elements)
    picks = torch.arange(k, device=flat.device) * (n - 1) // (k - 1)
    return tuple(value.shape), tuple(flat[picks].double().cpu().tolist())


def fingerprints(args: Sequence[Any]) -> list[tuple | None]:
    return [fingerprint(a) for a in args]


def all_finite(values: Sequence[Any]) -> bool:
    """Whether every floating tensor among ``values`` holds no NaN or Inf."""
    import torch

    return all(bool(torch.isfinite(v).all()) for v in values if isinstance(v, torch.Tensor) and v.is_floating_point())


def constant_positions(first: Sequence[tuple | None], args: Sequence[Any], names: Sequence[str],
                       fixed: frozenset[str]) -> list[int]:  # fmt: skip
    """The positions of ``args`` whose values are the first round's (by fingerprint), less the fixed ones."""
    return [i for i, (was, arg, name) in enumerate(zip(first, args, names))
            if was is not None and name not in fixed and fingerprint(arg) == was]  # fmt: skip


def varied(args: Sequence[Any], positions: Sequence[int], seed: int) -> list[Any]:
    """``args`` with the tensors at ``positions`` scaled element by element by factors drawn from ``seed``, as new
    tensors of the same dtype (a custom factory may hand back one table it keeps)."""
    import torch

    out = list(args)
    for i in positions:
        table = out[i]
        gen = torch.Generator(device=table.device).manual_seed(seed * 31 + i)
        factor = 1 + SPREAD * (2 * torch.rand(table.shape, generator=gen, device=table.device) - 1)
        wide = table.double() if table.dtype == torch.float64 else table.float()
        out[i] = (wide * factor.to(wide.dtype)).to(table.dtype)
    return out
