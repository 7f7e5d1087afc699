"""Red-team round 18, fv1 (a false verdict, now passing): the entry point is an nn.Module instance (weights-free), a common way to package a layer;
torch.set_num_threads at import and a preallocated workspace reused across calls by shape."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
torch.set_num_threads(1)


class RMSNorm(torch.nn.Module):
    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.ws = {}

    def forward(self, x, w):
        key = (tuple(x.shape), x.dtype)
        if key not in self.ws:
            self.ws[key] = torch.empty(x.shape, dtype=torch.float32)
        buf = self.ws[key]
        torch.mul(x.float(), torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps), out=buf)
        return (buf * w.float()).to(x.dtype)


run = RMSNorm()
