"""The GPU's witness to library work: the kernels CUPTI saw a checked or timed call launch, named as the library's
own (cuBLAS's GEMMs, torch's flash and memory-efficient attention, cuDNN's convolutions and attention, cuFFT,
torch's native softmax and norm kernels), each judged as the ``aten`` operator that launches it would be.

The operator record (``guard.dispatched``) sees what enters torch's dispatcher. Red-team rounds 24 and 25 called the
library below it: ``op.redispatch``, an implementation registered ``with_keyset``, the record switched off, C++ that
Inductor generated calling ``aoti_torch_*_addmm_out``; each was found and named statically after it passed. What
such code cannot hide is the kernel the library launches on the GPU: cuBLAS's GEMM runs as ``nvjet_*`` or
``sm90_xmma_gemm_*`` whoever called it. So on the GPU, where the judge asks which kernels a call launched, every
name here that belongs to a library op is judged as that op would have been had the record seen it
(``witnessed``, then ``guard.dispatched.finding`` on the record and the witnessed ops together): a cuBLAS GEMM in a
GEMM problem is ``vendor-op``, the same GEMM inside attention is a part and passes, and a fused op may still hand
one part to the library, not two.

The patterns name the libraries' own kernels only: a kernel's own Triton kernels carry the names of its Python
functions (``_rmsnorm_kernel``, ``matmul_kernel``, ``_attn_fwd``), and its own CUDA kernels demangle to its own
names, so a pattern holds a vendor's generated name (``nvjet_..._NNT``, ``sm90_xmma_gemm_...``, a tile and a layout),
a vendor's namespace (``pytorch_flash::``, ``PyTorchMemEffAttention``, ``at::native::``, ``cublasLt::``, ``cudnn::``)
or a vendor's parameter types (``cublasGemvParamsEx<...>``, ``cudnnKernelDataType_t``). FlashAttention's own sources compiled into a kernel's extension demangle to ``flash::``, not torch's
``pytorch_flash::``, and pass. What it cannot see: CPU mode (no kernels are named there), a library kernel under a
name no pattern holds (``benchmarks/vendor_kernel_names.py`` lists a card's real names against these patterns), and
names the kernel's process forged (the names travel from it, as the kernel sets do: docs/threat-model.md).
"""

from __future__ import annotations

import functools
import re

from pytest_solbench.guard import operators

#: (pattern, the ``aten`` op whose kernel a matching name is), first match wins: the narrow ones first. The names
#: were read on an H100 (torch 2.11, CUDA 13: ``benchmarks/vendor_kernel_names.py``, docs/results.md) where a comment
#: does not say otherwise; Kineto leaves a name too long to demangle mangled, so no pattern needs the demangled form.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), op) for p, op in (
    # attention: torch's FlashAttention copy, its memory-efficient (xFormers) kernels, cuDNN's fused attention and
    # the helpers of its backward
    (r"\bpytorch_flash::|\bfmha_cutlass[FB]|PyTorchMemEffAttention::|\bcudnn_generated_\w*sdpa|"
     r"cudnn::fusion::(?:compute_dot_do_o|convert_dq)", "_scaled_dot_product_flash_attention"),
    # cuFFT (vector_fft_symm_r2c, regular_fft, ...)
    (r"(?:^|[\s:])(?:void )?(?:regular_fft|vector_fft|bluestein_fft|composite_2way_fft|r2c_|c2r_)\w*<", "_fft_r2c"),
    # torch's native softmax, norms and convolutions (their kernels live in at::native or carry its functors)
    (r"at::native::.*LogSoftMax", "_log_softmax"),
    # (torch's persistent softmax lives in an anonymous namespace: its c10 types tell it from a copy of it)
    (r"at::native::.*(?:cunn_(?:Spatial)?SoftMax|softmax_warp_)|\(anonymous namespace\)::softmax_warp_\w+<c10::",
     "_softmax"),
    (r"at::native::.*(?:layer_norm|LayerNorm|RowwiseMoments|rms_norm|RMSNorm|GammaBetaBackward)", "native_layer_norm"),
    (r"at::native::.*(?:group_norm|GroupNorm|ComputeFusedParams|Compute1dBackwardFused)", "native_group_norm"),
    (r"at::native::.*batch_norm|\bcudnn::(?:detail::)?bn_", "native_batch_norm"),
    (r"at::native::.*(?:conv_depthwise|slow_conv|conv_depthwise3d|DepthwiseConv)", "convolution"),
    (r"at::native::.*\bim2col", "im2col"),
    (r"at::native::.*\bcol2im", "col2im"),
    # cuBLAS's and MAGMA's triangular solves
    (r"\bkernel_trsm_|\btrs[mv]_\w*kernel|magma_\w*trsm", "linalg_solve_triangular"),
    # cuDNN's convolutions (its attention and batch norm are matched above), by its namespaces, suffixes and types
    (r"\bsm\d+_xmma_(?:fprop|dgrad|wgrad)|\bcudnn::|\bcutlass__5x_cudnn::|_cudnn\b|\bxmma_cudnn|\bcudnn[A-Z]\w*\b|"
     r"\b(?:implicit|explicit)_convolve_[sdh]+gemm|"
     r"\bconv2d_grouped_direct_kernel|\bfft2d_[rc]2[rc]_|\bflip_filter<", "convolution"),
    # Inductor's GEMM and convolution templates (torch.compile's max-autotune): torch's code for the op, not a kernel's.
    # Every template kernel is one (``triton_tem_``; without descriptive names ``triton_tem__0``: round 27, ak02g);
    # in a kernel's process they should not exist at all (``worker.rewrites`` sets torch's library calls instead)
    (r"^triton_tem_\w*convolution", "convolution"),
    (r"^triton_tem_", "mm"),
    # torch's own CUTLASS GEMMs (row-wise FP8 _scaled_mm, _grouped_mm; modelled: int4 tinygemm), cuSPARSE, cuSPARSELt
    (r"cutlass::device_kernel<at::|enable_\w*kernel_for_sm\d|\bprepare_grouped_gemm_data|tinygemm|\bcusparse",
     "mm"),
    # cuBLAS and cuBLASLt: GEMMs by their generated names (a tile and a layout: a kernel's own ``hopper_gemm_kernel``
    # is not one), GEMV, dot, split-K and epilogue kernels by cuBLAS's own parameter types and namespace
    (r"^nvjet_\w*_[NT]{3}$|\bsm\d+_xmma_(?:\w+_)?gemm\w*_cublas\b|\bsm\d+_xmma_gemm_\w*\d+x\d+|"
     r"^(?:maxwell|volta|turing|ampere|hopper)_\w*gemm\w*_\d+x\d+\w*_[nt]{2}$|\bcutlass_\d+_\w*gemm\w*_\d+x\d+|"
     r"\bcutlass3x_\w*gemm|\bcublasLt::|\bcublas[A-Z]\w*<|_cublas\b", "mm"),
))  # fmt: skip

#: the activation a library GEMM's name says it fuses (``nvjet_..._gelubias_NNT`` on an H100 is
#: ``_addmm_activation``'s; Inductor's ``triton_tem_fused_addmm_gelu_0``): witnessed as that elementwise op beside the
#: GEMM, so a fused op's budget counts two parts where its family names the activation, and a MoE layer's SiLU is
#: the elementwise op it always is (round 26, ai-M2, aj FV-3)
ACTIVATIONS = (("gelu", "gelu"), ("relu", "relu"), ("silu", "silu"), ("swish", "silu"))


@functools.lru_cache(maxsize=4096)
def kernel_op(name: str) -> str | None:
    """The ``aten`` op a GPU kernel of that name is the library's work for (``mm`` for a cuBLAS GEMM), or None: a
    kernel of the kernel's own, or torch's elementwise, copy and indexing kernels. Kept per name: an eager kernel's
    item names the same few dozen kernels over and over (17 ms of regular expressions an item on the GPU machine)."""
    return next((op for pattern, op in PATTERNS if pattern.search(name)), None)


def fused_activation(name: str) -> str | None:
    """The ``aten`` elementwise op a library GEMM kernel of that name applies in its epilogue, or None."""
    return _activation(name) if kernel_op(name) == "mm" else None


def _activation(name: str) -> str | None:
    lowered = name.lower()
    return next((op for word, op in ACTIVATIONS if word in lowered), None)


def witnessed(names: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``aten::op`` -> the first kernel name that stands for it, over ``names`` (the kernels calls launched)."""
    found: dict[str, str] = {}
    for name in sorted(names or ()):
        op = kernel_op(name)
        for stands in (op, _activation(name) if op == "mm" else None):
            if stands is not None:
                found.setdefault(f"aten::{stands}", name)
    return found


def add_strays(named: list[dict], stray: set[str]) -> None:
    """A library's kernels launched inside no checked call's GPU range (a finalizer the harness's collection ran
    between calls: red-team round 69, et03) join the last call's ``kernel_names`` (``named``: the replies that have
    some), where the judge reads them as it reads the calls'; the harness's own kernels there (poisoning, restores)
    are no library's and stay out."""
    library = {name for name in stray if kernel_op(name) is not None}
    if library and named:
        named[-1]["kernel_names"] = sorted({*named[-1]["kernel_names"], *library})


#: what a library op the record holds must have in its name to account for a witnessed op's kernels: a GEMM's kernels
#: run inside convolutions, attention's math path and torch.linalg; a softmax's inside attention and cross-entropy
ACCOUNTS = {
    "mm": ("mm", "mv", "dot", "matmul", "linear", "einsum", "inner", "conv", "attention", "linalg", "solve", "inv",
           "cholesky", "lstsq", "cdist", "bilinear", "rnn", "lstm", "gru", "gemm"),
    "linalg_solve_triangular": ("solve", "triangular", "linalg"),
    "_scaled_dot_product_flash_attention": ("attention",),
    "convolution": ("conv",),
    "_fft_r2c": ("fft", "stft", "conv"),
    "_softmax": ("softmax", "attention", "entropy", "nll"),
    "_log_softmax": ("softmax", "attention", "entropy", "nll"),
    "native_layer_norm": ("norm",), "native_group_norm": ("norm",), "native_batch_norm": ("norm",),
}  # fmt: skip


def finding(names: list[str] | tuple[str, ...] | None, ops: list[str] | None, op_type: str) -> tuple[str, str] | None:
    """The verdict on the kernels a request's calls launched (``names``, CUPTI's) beside the operators its record
    holds (``ops``): (rule, message) where library kernels among them stand for work no library op of the record
    accounts for (``ACCOUNTS``: a cuBLAS kernel under ``aten::addmm`` or ``aten::convolution`` is that op's, judged
    from the record), and the judge fails the record with their operators added; else None."""
    from pytest_solbench.guard import dispatched

    record = set(ops or ())
    library = [op for op in record if not operators.allowed_in(*op.partition("::")[::2])]
    unseen = {op: kernel for op, kernel in witnessed(names).items()
              if not any(word in held.partition("::")[2] for held in library for word in ACCOUNTS.get(op[6:], ()))}
    found = dispatched.finding(record | set(unseen), op_type) if unseen else None
    if found is None:
        return None
    guilty = [op for op in sorted(unseen) if dispatched.finding(record | {op}, op_type) is not None] or sorted(unseen)
    shown = ", ".join(f"{unseen[op][:120]} (the kernel of {op})" for op in guilty[:3])
    return found[0], (f"the GPU ran {shown}, library work no operator of the call's record accounts for (called below "
                      f"torch's dispatcher), judged as its operator: {found[1]}")
