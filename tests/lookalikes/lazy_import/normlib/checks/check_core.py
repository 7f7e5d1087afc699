"""The author's own check of normlib.core against the vendor's op: never imported by the kernel."""
import pytest
import torch
import torch.nn.functional as F

from normlib.core import rms


@pytest.mark.parametrize("n", [1, 7])
def test_rms_matches_the_vendor(n):
    x = torch.randn(n, 4096)
    expected = F.rms_norm(x, (4096,), eps=1e-5)
    torch.testing.assert_close(x / rms(x), expected)
