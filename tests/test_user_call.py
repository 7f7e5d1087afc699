"""solbench_time: a kernel timed from one's own test, under the items' timing contract (GPU), skipped without."""

from __future__ import annotations

import pytest
import torch

from pytest_solbench.measure.user_call import time_call


def test_every_call_sees_fresh_addresses_and_the_summary_is_of_its_samples() -> None:
    seen: list[int] = []

    def kernel(x: torch.Tensor, *, scale: float) -> None:
        seen.append(x.data_ptr())
        x.mul(scale)

    x = torch.ones(64)
    m = time_call(kernel, (x,), {"scale": 2.0}, device="cpu", max_time_s=0.2)
    assert m.method == "wall" and m.n == len(m.samples_ms) >= 10
    assert min(m.samples_ms) == m.min_ms <= m.median_ms <= max(m.samples_ms)
    assert len(set(seen)) >= 2  # rotated clones: consecutive calls do not reuse one address
    assert all(a != b for a, b in zip(seen[1:], seen[2:]))


def test_the_fixture_skips_without_a_gpu_and_times_with_one(pytester: pytest.Pytester) -> None:
    # As the README writes it: the test makes CUDA tensors before it calls the fixture, so the skip comes at setup.
    pytester.makepyfile(
        """
        import torch

        def test_mine(solbench_time):
            x = torch.ones(1 << 20, device="cuda")
            m = solbench_time(torch.mul, x, 2.0)
            assert m.median_ms > 0 and m.n >= 10 and m.method in ("cupti", "cuda_events", "cuda_graph")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    if torch.cuda.is_available():
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["*solbench_time times on a CUDA GPU: none is visible here*"])
