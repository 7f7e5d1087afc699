"""FALSE POSITIVE probe: an honest fp32-safe GEMM that turns TF32 OFF (torch.backends.cuda.matmul.allow_tf32 = False,
torch.set_float32_matmul_precision('highest')) - the opposite of a precision downgrade."""
import torch
DEFINITION = "bert_base_qkv_proj_n2304_k768"
torch.backends.cuda.matmul.allow_tf32 = False
def run(hidden_states, weight, bias, output):
    output.copy_(((hidden_states.float()[:, None, :] * weight.float()[None]).sum(-1) + bias.float()).to(output.dtype))
