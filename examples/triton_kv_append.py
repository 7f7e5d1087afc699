"""Llama-3.1-8B paged KV-cache append in Triton (vLLM's reshape_and_cache_flash), updating the caches in place.

The problem has no outputs: the kernel writes each new token's key and value into slot ``slot_mapping[t]`` of
``k_cache`` and ``v_cache`` and returns nothing; the judge holds the caches to what the reference writes there and
to their bytes everywhere else (``pytest_solbench.worker.inplace``).

Design: one program per token copies its key row and its value row (num_kv_heads x head_dim = 1024 bf16 values,
2 KiB each) to the row of the flattened cache its slot names. Each byte is read once and written once in whole
rows, which is the problem's byte count; the slot is one int64 load per program. A slot is a row index into the
caches viewed as ``[num_pages * page_size, row]``, so the same kernel serves any page size and any row width (the
tail of a row that is not a power of two is masked).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

DEFINITION = "llama3_1_8b_paged_kv_append_kv8_d128_ps16"


@triton.jit
def _append_kernel(key_ptr, value_ptr, k_cache_ptr, v_cache_ptr, slot_ptr, row_size, key_stride, value_stride,
                   BLOCK: tl.constexpr):  # fmt: skip
    token = tl.program_id(0).to(tl.int64)
    slot = tl.load(slot_ptr + token).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < row_size
    key = tl.load(key_ptr + token * key_stride + cols, mask=mask)
    value = tl.load(value_ptr + token * value_stride + cols, mask=mask)
    tl.store(k_cache_ptr + slot * row_size + cols, key, mask=mask)
    tl.store(v_cache_ptr + slot * row_size + cols, value, mask=mask)


def run(key: torch.Tensor, value: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
        slot_mapping: torch.Tensor) -> None:  # fmt: skip
    """Write key[t] and value[t] into row slot_mapping[t] of the caches viewed as [slots, heads * head_dim]."""
    num_tokens = key.shape[0]
    if num_tokens == 0:
        return
    if not (k_cache.is_contiguous() and v_cache.is_contiguous()):
        raise ValueError("the caches must be contiguous: the kernel writes them in place, so it cannot copy them")
    key = key.reshape(num_tokens, -1)
    value = value.reshape(num_tokens, -1)
    key = key if key.stride(-1) == 1 else key.contiguous()
    value = value if value.stride(-1) == 1 else value.contiguous()
    row_size = key.shape[1]
    block = triton.next_power_of_2(row_size)
    _append_kernel[(num_tokens,)](
        key, value, k_cache, v_cache, slot_mapping, row_size, key.stride(0), value.stride(0), BLOCK=block,
        num_warps=min(8, max(1, block // 256)),
    )  # fmt: skip
