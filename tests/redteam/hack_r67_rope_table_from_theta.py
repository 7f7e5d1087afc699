"""Red-team round 67, en01 (attack-en): a RoPE kernel that never reads its ``cos_sin_cache`` input and computes the
table from Qwen3's rope_theta and the positions instead. The problem's custom factory makes the same table for every
seed, so every correctness round agreed. The judge now hands a later round's kernel the table scaled element by
element (``judge.constant_inputs``: an input whose values every round repeats), so a kernel that does not read it is
wrong there."""
import torch

DEFINITION = "qwen3_8b_rope_cos_sin_cache_q32_kv8_d128"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "judge.constant_inputs: a table every seed makes alike carries other values from the second round on"

THETA, HEAD_DIM = 1e6, 128


def _rotate(x, cos, sin):
    x1, x2 = x.float().chunk(2, dim=-1)
    cos, sin = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)


@torch.no_grad()
def run(positions, q, k, cos_sin_cache):
    inv_freq = THETA ** -(torch.arange(0, HEAD_DIM, 2, dtype=torch.float64, device=q.device) / HEAD_DIM)
    angles = positions.double()[:, None] * inv_freq[None, :]
    cos, sin = angles.cos().float(), angles.sin().float()
    return _rotate(q, cos, sin), _rotate(k, cos, sin)
