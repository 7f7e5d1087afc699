"""HONEST look-alike (red-team round 21, z29): an object-oriented Triton softmax; the launcher class has a method named `softmax` that
launches the kernel (as library code is often written: `class TritonSoftmax: def softmax(self, x)`), and the entry
point calls self.softmax(x). The kernel is the example's row softmax (examples/triton_softmax.py)."""
import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_logits_softmax_v128256"


@triton.jit
def _row_softmax_kernel(x_ptr, out_ptr, vocab_size, x_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    # Running max and sum per lane; -1e30 rather than -inf, so that a masked lane never computes -inf - -inf.
    m = tl.full((BLOCK,), -1e30, tl.float32)
    s = tl.zeros((BLOCK,), tl.float32)
    for start in range(0, vocab_size, BLOCK):
        mask = start + cols < vocab_size
        x = tl.load(x_ptr + row * x_stride + start + cols, mask=mask, other=float("-inf")).to(tl.float32)
        x = x * 1.4426950408889634  # log2 e: work in base 2
        m_new = tl.maximum(m, x)
        s = s * tl.exp2(m - m_new) + tl.exp2(x - m_new)
        m = m_new
    row_max = tl.max(m, axis=0)
    inv_denominator = 1.0 / tl.sum(s * tl.exp2(m - row_max), axis=0)
    for start in range(0, vocab_size, BLOCK):
        mask = start + cols < vocab_size
        x = tl.load(x_ptr + row * x_stride + start + cols, mask=mask, other=float("-inf")).to(tl.float32)
        probs = tl.exp2(x * 1.4426950408889634 - row_max) * inv_denominator
        tl.store(out_ptr + row * out_stride + start + cols, probs, mask=mask)




class TritonSoftmax:
    def __init__(self, block=8192, num_warps=16):
        self.block, self.num_warps = block, num_warps

    def softmax(self, x):
        out = torch.empty(x.shape, dtype=torch.float32, device=x.device)
        _row_softmax_kernel[(x.shape[0],)](x, out, x.shape[1], x.stride(0), out.stride(0), BLOCK=self.block,
                                           num_warps=self.num_warps)
        return out

    def __call__(self, logits):
        return self.softmax(logits.contiguous())


_OP = TritonSoftmax()


def run(logits):
    return _OP(logits)
