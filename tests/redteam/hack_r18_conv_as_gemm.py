"""v10: a GEMM problem answered by a vendor op of another family: a 1x1 convolution (F.conv1d, cuDNN/oneDNN) is
x @ W^T + b. The vendor-op table is chosen by op_type ("gemm" -> the matmul family only); the conv family is looked
up only for op types holding "conv", so F.conv1d passes a gemm problem (red-team round 18, v10)."""

import torch.nn.functional as F

DEFINITION = "bert_base_qkv_proj_n2304_k768"
EXPECTED = "vendor-op"
LAYER = "static"
CAUGHT_BY = "a 1x1 convolution is a GEMM: the conv calls are in the matmul family (tables._CONV)"


def run(hidden_states, weight, bias):
    # (T, K) -> (1, K, T); weight (N, K) -> (N, K, 1); out (1, N, T) -> (T, N)
    y = F.conv1d(hidden_states.t().unsqueeze(0), weight.unsqueeze(-1), bias)  # HACK
    return y.squeeze(0).t().contiguous()
