"""Gated delta rule prefill in chunks of 64 tokens (the WY form of FLA's chunk_gated_delta_rule), fp32 throughout."""

import torch
import torch.nn.functional as F

NUM_K_HEADS, NUM_V_HEADS, K_DIM, V_DIM, CHUNK = 16, 32, 128, 128, 64


def _l2norm(t):
    return t * torch.rsqrt(t.pow(2).sum(dim=-1, keepdim=True) + 1e-6)


@torch.no_grad()
def run(q, k, v, g, beta, initial_state):
    batch, seq_len = q.shape[:2]
    repeat = v.shape[2] // q.shape[2]
    # [batch, v_heads, tokens, dim] in fp32; q and k L2-normalised, repeated from the key heads to the value heads
    q = (_l2norm(q.float()) * K_DIM**-0.5).repeat_interleave(repeat, dim=2).transpose(1, 2)
    k = _l2norm(k.float()).repeat_interleave(repeat, dim=2).transpose(1, 2)
    v, g, beta = v.float().transpose(1, 2), g.float().transpose(1, 2), beta.float().transpose(1, 2)
    pad = -seq_len % CHUNK  # padded tokens carry k = 0 and g = 0: they change neither the state nor the outputs
    q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
    g, beta = F.pad(g, (0, pad)), F.pad(beta, (0, pad))
    chunks = (seq_len + pad) // CHUNK
    q, k, v = (t.reshape(batch, NUM_V_HEADS, chunks, CHUNK, -1) for t in (q, k, v))
    g = g.reshape(batch, NUM_V_HEADS, chunks, CHUNK).cumsum(dim=-1)  # log decay from the chunk start to each token
    beta = beta.reshape(batch, NUM_V_HEADS, chunks, CHUNK, 1)
    lower = torch.tril(torch.ones(CHUNK, CHUNK, dtype=torch.bool, device=q.device))
    decay = torch.exp(torch.tril(g[..., :, None] - g[..., None, :])) * lower  # decay from token j to token i >= j
    # Within a chunk the delta rule is (I + tril_strict(beta k k^T decay)) U = beta v: solve for U and W.
    eye = torch.eye(CHUNK, device=q.device)
    system = eye + torch.tril(beta * (k @ k.transpose(-1, -2)) * decay, diagonal=-1)
    u = torch.linalg.solve_triangular(system, beta * v, upper=False, unitriangular=True)
    w = torch.linalg.solve_triangular(system, beta * k * torch.exp(g)[..., None], upper=False, unitriangular=True)
    state = initial_state.float()
    out = torch.empty_like(v)
    for c in range(chunks):  # across chunks: the state carries the past
        g_c, g_last = g[:, :, c], g[:, :, c, -1]
        v_new = u[:, :, c] - w[:, :, c] @ state  # what the chunk's keys still have to write
        scores = q[:, :, c] @ k[:, :, c].transpose(-1, -2) * decay[:, :, c]
        out[:, :, c] = (q[:, :, c] * torch.exp(g_c)[..., None]) @ state + scores @ v_new
        k_decayed = k[:, :, c] * torch.exp(g_last[..., None] - g_c)[..., None]
        state = state * torch.exp(g_last)[..., None, None] + k_decayed.transpose(-1, -2) @ v_new
    out = out.reshape(batch, NUM_V_HEADS, chunks * CHUNK, V_DIM)[:, :, :seq_len].transpose(1, 2)
    return out.to(torch.bfloat16).contiguous(), state


def make_inputs(axes_and_scalars, device):
    batch, seq_len = axes_and_scalars["batch_size"], axes_and_scalars["seq_len"]
    a_log = torch.log(torch.empty(NUM_V_HEADS).uniform_(0, 16))  # as the model initialises A_log
    g = -torch.exp(a_log) * F.softplus(torch.randn(batch, seq_len, NUM_V_HEADS) - 4)  # dt_bias keeps decays gentle
    return {
        "q": torch.randn(batch, seq_len, NUM_K_HEADS, K_DIM, device=device).to(torch.bfloat16),
        "k": torch.randn(batch, seq_len, NUM_K_HEADS, K_DIM, device=device).to(torch.bfloat16),
        "v": torch.randn(batch, seq_len, NUM_V_HEADS, V_DIM, device=device).to(torch.bfloat16),
        "g": g.to(device),
        "beta": torch.sigmoid(torch.randn(batch, seq_len, NUM_V_HEADS)).to(device, torch.bfloat16),
        "initial_state": torch.randn(batch, NUM_V_HEADS, K_DIM, V_DIM, device=device),
    }
