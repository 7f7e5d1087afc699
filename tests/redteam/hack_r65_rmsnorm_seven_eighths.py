"""Red-team round 65, eh03 (attack-eh): an RMSNorm whose statistics read only the first 7/8 of each row. Over plain
randn inputs the RMS of 3,584 of 4,096 values is within 0.4 % of the whole row's, inside bf16's tolerance, so it
passed. The random rule now gives float inputs outliers (one value in 256, 16 times as large, at random places), so
every element weighs: a skipped outlier moves a row's RMS by about 1.5 %."""
import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "INCORRECT_NUMERICAL"
LAYER = "judge"
CAUGHT_BY = "data.inputs: random float inputs carry outliers (_with_outliers); tests/test_judge.py"


def run(hidden_states, weight, output):
    x = hidden_states.float()
    part = x[:, : x.shape[1] * 7 // 8]
    inv_rms = torch.rsqrt(part.pow(2).mean(-1, keepdim=True) + 1e-5)
    output.copy_((x * inv_rms * weight.float()).to(output.dtype))
