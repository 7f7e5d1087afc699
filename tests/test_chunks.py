"""``worker.chunks``: one chunk of a comparison in few kernels gives the figures the element-wise rule gives, as the
op-by-op computation that ``worker.check`` used before gave them, bit for bit."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_solbench.worker import check
from pytest_solbench.worker.chunks import chunk_summary


def _long_way(g, e, tol, rel_floor):
    """The figures as ``check._numerical`` computed them before ``chunk_summary``, one op at a time."""
    import torch

    finite = torch.isfinite(g)
    allowed = (g == float("-inf")) & (e == float("-inf")) if tol.allow_negative_inf else torch.zeros_like(finite)
    both = finite & torch.isfinite(e)
    err = torch.where(both, (g - e).abs(), torch.zeros_like(g))
    rel = err / e.abs().clamp_min(rel_floor)
    ok = (both & ((g - e).abs() <= tol.max_atol + tol.max_rtol * e.abs())) | allowed
    g64, e64 = (torch.where(both, x, torch.zeros_like(x)).to(torch.float64) for x in (g, e))
    figures = [(~ok).sum(), (~finite & ~allowed).sum(), err.max(), err.argmax(), rel.max(), rel.argmax(),
               (g != 0).any(), ((e != 0) & ~torch.isnan(e)).any(), (g64 - e64).square().sum(), e64.square().sum(),
               both.sum()]  # fmt: skip
    return torch.stack([x.to(torch.float64) for x in figures]).tolist(), ok


@pytest.mark.parametrize("seed", range(40))
def test_a_chunks_figures_are_the_element_wise_rules_bit_for_bit(seed: int) -> None:
    import torch

    generator = torch.Generator().manual_seed(seed)
    work = torch.float64 if seed % 5 == 0 else torch.float32
    e = torch.randn(4096, generator=generator, dtype=work) * (1e-3 if seed % 3 == 0 else 10.0)
    g = e + torch.randn(4096, generator=generator, dtype=work) * [0.0, 1e-5, 1e-2, 1.0][seed % 4]
    g[torch.rand(4096, generator=generator) < 0.02 * (seed % 3)] = float("nan")
    g[torch.rand(4096, generator=generator) < 0.01 * (seed % 2)] = float("inf")
    both_ninf = torch.rand(4096, generator=generator) < 0.05 * (seed % 2)
    g[both_ninf], e[both_ninf] = float("-inf"), float("-inf")
    if seed % 7 == 0:
        g = torch.zeros_like(e)
    tol = dataclasses.replace(check.tolerance_for("bfloat16"), allow_negative_inf=seed % 4 < 2)
    figures, ok = chunk_summary(g, e, tol, 1e-2)
    expected, expected_ok = _long_way(g, e, tol, 1e-2)
    assert figures == expected and torch.equal(ok, expected_ok)
