"""FALSE POSITIVE probe (red-team round 29, ap FV-1 to FV-3): the settings preambles users copy, assigned as
attributes: cuDNN's algorithm search, TF32 on (a bf16 definition: nothing to downgrade), dynamo's recompile limit,
Inductor's coordinate-descent tuning. They were ``patching``; the kernel itself is plain torch."""
import torch
import torch._dynamo.config
import torch._inductor.config

DEFINITION = "llama3_1_8b_rmsnorm_h4096"

torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch._dynamo.config.cache_size_limit = 64
torch._inductor.config.coordinate_descent_tuning = True


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
