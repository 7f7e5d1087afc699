"""One chunk of an output's comparison (``worker.check``) in few kernels and one read back to the host."""

from __future__ import annotations

from typing import Any

from pytest_solbench.data.trace import Tolerance


def chunk_summary(g: Any, e: Any, tol: Tolerance, rel_floor: float) -> tuple[list[float], Any]:
    """One chunk's figures in one read back to the host, and which of its elements pass (``ok``): [elements that
    fail, NaN or Inf in ``g`` (but the ``-inf`` allowed), max abs error and its index, max rel error and its index,
    any ``g`` nonzero, any ``e`` nonzero (not NaN), sum of squared errors and of squared expected values (float64,
    over the elements finite in both), elements finite in both].

    Few kernels: on the GPU a comparison was launch-bound (about 60 small ops per chunk, 1.5 ms at 1x4096 on an H100);
    each figure is what ``worker.check``'s element-wise rule gives, computed once and reused. ``rel_floor``: the
    least ``|expected|`` a relative error divides by."""
    import torch

    f64 = torch.float64
    diff = g - e
    err_all, size = diff.abs(), e.abs()
    finite = torch.isfinite(g)
    both = finite & torch.isfinite(e)
    err = torch.where(both, err_all, 0.0)
    rel = err / size.clamp_min(rel_floor)
    ok = both & (err_all <= size * tol.max_rtol + tol.max_atol)
    if tol.allow_negative_inf:
        allowed = (g == float("-inf")) & (e == float("-inf"))
        ok |= allowed
        nonfinite = (~finite & ~allowed).sum(dtype=f64)
    else:
        nonfinite = finite.sum(dtype=f64)  # finite ones: the rest are not (below)
    # the L2 error judges every element finite in both, the ratio's exceptions too (round 14, p05-p07)
    error64 = torch.where(both, g.to(f64) - e.to(f64), 0.0)
    expected64 = torch.where(both, e.to(f64), 0.0)
    abs_max, abs_at = err.max(0)
    rel_max, rel_at = rel.max(0)
    summary = torch.stack([
        ok.sum(dtype=f64), nonfinite, abs_max.to(f64), abs_at.to(f64), rel_max.to(f64), rel_at.to(f64),
        g.any().to(f64), (size > 0).any().to(f64), error64.square().sum(), expected64.square().sum(), both.sum(dtype=f64),
    ]).tolist()  # fmt: skip
    n = g.numel()
    summary[0] = n - summary[0]
    if not tol.allow_negative_inf:
        summary[1] = n - summary[1]
    return summary, ok
