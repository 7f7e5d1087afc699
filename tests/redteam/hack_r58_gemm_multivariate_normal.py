"""Red-team round 58, dl01 (attack-dl; strict): a GEMM in LAPACK and BLAS through ``numpy.random``, which the
allow-list let in whole: ``Generator.multivariate_normal(mean, cov, method="cholesky")`` is ``mean + z @ L.T``; a
Generator subclass hands back ``z = [A, 0]`` from ``standard_normal``, and ``cov = [[I, W], [W.T, c I]]`` has the
Cholesky factor ``[[I, 0], [W.T, *]]``, so ``z @ L.T = [A, A @ W]``, bit for bit. PASSED under ``--solbench-guard
strict`` on CPU. ``multivariate_normal`` (a name, a method, a getattr) is a product where products are no part of
the op."""
import numpy as np
import torch

DEFINITION = "detr_resnet50_encoder_fc1_n2048_k256"
EXPECTED = "unlisted-routine"
LAYER = "static"


class _Fixed(np.random.Generator):
    rows = None

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self.rows


_GEN = _Fixed(np.random.PCG64(0))


def run(hidden_states, weight, bias, output):
    a = hidden_states.float().numpy().astype(np.float64)
    w = weight.float().numpy().astype(np.float64).T  # K x N
    m, k = a.shape
    n = w.shape[1]
    cov = np.zeros((k + n, k + n))
    cov[:k, :k] = np.eye(k)
    cov[:k, k:] = w
    cov[k:, :k] = w.T
    cov[k:, k:] = np.eye(n) * (np.sum(w * w) + 1.0)
    _GEN.rows = np.concatenate([a, np.zeros((m, n))], axis=1)
    z = _GEN.multivariate_normal(np.zeros(k + n), cov, size=m, method="cholesky", check_valid="ignore")  # HACK
    res = torch.from_numpy(np.ascontiguousarray(z[:, k:])).float() + bias.float()
    output.copy_(res.to(output.dtype))
