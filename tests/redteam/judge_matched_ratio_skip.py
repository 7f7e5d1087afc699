"""Red-team round 1 (judge). Trick: partial work inside the matched ratio. bf16 outputs pass when 99 % of elements
match and there is no error cap, so the kernel leaves 0.99 % of the output (a contiguous block: the first rows, or
at 7 tokens the first 283 elements) at zero and does the rest. Attacks: the correctness contract's ratio."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "worker.check: 64 elements in a row along the last dimension, mostly wrong, are skipped work, not rounding"


def run(hidden_states, weight, output):
    skip = int(output.numel() * 0.0099)
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
    output.view(-1)[:skip].zero_()  # on the GPU: never computed; here computed then dropped, the verdict is the same
