"""A Triton store far outside any allocation: an illegal memory access that poisons the CUDA context."""
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


@triton.jit
def _bad_store(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs + (1 << 40), tl.zeros([BLOCK], dtype=tl.float32), mask=offs < n)


def run(hidden_states, weight, output):
    _bad_store[(1,)](output, output.numel(), BLOCK=128)
