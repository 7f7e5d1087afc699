"""FALSE POSITIVE probe (red-team round 30, ar FV-1 to FV-4): settings read from environment variables and module
constants, and the torch.compile preamble of PyTorch's generative-AI posts (1x1 convolutions as GEMMs, freezing,
errors suppressed, max-autotune, CUDA graphs off, cuDNN on); they were ``patching``."""
import os

import torch
import torch._dynamo.config
import torch._inductor.config

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
USE_BENCHMARK = os.environ.get("KERNEL_CUDNN_BENCHMARK", "1") == "1"

torch.backends.cudnn.benchmark = USE_BENCHMARK
torch.backends.cudnn.enabled = True
torch._dynamo.config.cache_size_limit = int(os.environ.get("KERNEL_CACHE_LIMIT", "8")) * 8
torch._dynamo.config.suppress_errors = True
torch._inductor.config.conv_1x1_as_mm = True
torch._inductor.config.freezing = True
torch._inductor.config.max_autotune = True
torch._inductor.config.triton.cudagraphs = False


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
