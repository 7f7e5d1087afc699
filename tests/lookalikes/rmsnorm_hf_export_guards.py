"""Red-team round 44 (bx10), honest look-alike: Gemma's RMSNorm with the guards Hugging Face's model code
carries around a shape assert (``torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()``): a yes/no question of
a module off the allow-list, which computes nothing (``numerics._TORCH_QUERIES``)."""
import torch

DEFINITION = "gemma_7b_rmsnorm_h3072"


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling()


def run(hidden_states, weight):
    if not _exporting():
        assert hidden_states.shape[-1] == weight.shape[0], "hidden size mismatch"
    x = hidden_states.float()
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * (1.0 + weight.float())
    return y.to(hidden_states.dtype)
