"""Red-team round 23, attack-ad (an honest kernel the operator allow-list first failed): Llama RoPE backward (rotate-half), the broadcast of cos/sin over heads written as einsum (no sum index:
einsum only multiplies here)."""
import torch

DEFINITION = "llama3_1_8b_rope_backward_q32_kv8_d128"


@torch.no_grad()
def run(grad_q_out, grad_k_out, cos, sin):
    c, s = cos.float(), sin.float()

    def back(g):
        h = g.shape[-1] // 2
        g1, g2 = g[..., :h].float(), g[..., h:].float()
        out1 = torch.einsum("thd,td->thd", g1, c) + torch.einsum("thd,td->thd", g2, s)
        out2 = torch.einsum("thd,td->thd", g2, c) - torch.einsum("thd,td->thd", g1, s)
        return torch.cat([out1, out2], dim=-1).to(g.dtype)

    return back(grad_q_out), back(grad_k_out)
