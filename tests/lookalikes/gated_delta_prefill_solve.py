"""Red-team round 23, attack-ad (an honest kernel the operator allow-list first failed): gated delta rule chunked prefill, FLA's WY form in eager torch; the unit-lower-triangular system of each
chunk is solved with torch.linalg.solve_triangular, as the problem's own reference does."""
import torch
import torch.nn.functional as F

DEFINITION = "qwen3_next_80b_a3b_gated_delta_rule_chunked_prefill_h32_d128"
CHUNK = 64


@torch.no_grad()
def run(q, k, v, g, beta, initial_state):
    b, t, hk, dk = q.shape
    hv = v.shape[2]
    rep = hv // hk
    q = F.normalize(q.float(), dim=-1, eps=1e-6) * dk ** -0.5
    k = F.normalize(k.float(), dim=-1, eps=1e-6)
    q = q.repeat_interleave(rep, dim=2).transpose(1, 2)
    k = k.repeat_interleave(rep, dim=2).transpose(1, 2)
    v, g, beta = v.float().transpose(1, 2), g.float().transpose(1, 2), beta.float().transpose(1, 2)
    pad = (CHUNK - t % CHUNK) % CHUNK
    q, k, v = [F.pad(x, (0, 0, 0, pad)) for x in (q, k, v)]
    g, beta = F.pad(g, (0, pad)), F.pad(beta, (0, pad))
    n = (t + pad) // CHUNK
    q, k, v = [x.view(b, hv, n, CHUNK, -1) for x in (q, k, v)]
    g = g.view(b, hv, n, CHUNK).cumsum(-1)
    beta = beta.view(b, hv, n, CHUNK, 1)
    mask = torch.ones(CHUNK, CHUNK, dtype=torch.bool).tril()
    decay = (g[..., :, None] - g[..., None, :]).masked_fill(~mask, float("-inf")).exp()
    A = torch.eye(CHUNK) + (beta * (k @ k.transpose(-1, -2)) * decay).tril(-1)
    u = torch.linalg.solve_triangular(A, beta * v, upper=False, unitriangular=True)
    w = torch.linalg.solve_triangular(A, beta * k * g.exp()[..., None], upper=False, unitriangular=True)
    S = initial_state.float().clone()
    out = torch.empty_like(v)
    for c in range(n):
        gc = g[:, :, c]
        vn = u[:, :, c] - w[:, :, c] @ S
        att = (q[:, :, c] @ k[:, :, c].transpose(-1, -2)) * decay[:, :, c]
        out[:, :, c] = (q[:, :, c] * gc.exp()[..., None]) @ S + att @ vn
        kd = k[:, :, c] * (gc[..., -1:] - gc).exp()[..., None]
        S = S * gc[..., -1].exp()[..., None, None] + kd.transpose(-1, -2) @ vn
    out = out.view(b, hv, n * CHUNK, -1)[:, :, :t].transpose(1, 2)
    return out.to(torch.bfloat16).contiguous(), S
