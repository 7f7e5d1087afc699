"""The author's check of the kernel against the vendor's op: never imported by the kernel."""
import pytest
import torch
import torch.nn.functional as F

from pkg_with_tests.pkg_with_tests import run


@pytest.mark.parametrize("n", [1, 7])
def test_run_matches_the_vendor(n):
    x, w = torch.randn(n, 4096, dtype=torch.bfloat16), torch.randn(4096, dtype=torch.bfloat16)
    expected = F.rms_norm(x.float(), (4096,), w.float(), eps=1e-5).to(torch.bfloat16)
    torch.testing.assert_close(run(x, w), expected, atol=1e-2, rtol=1e-2)
