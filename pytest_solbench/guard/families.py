"""The vendor families: which library calls do a whole op, for the op types whose name holds one of a family's
keywords. The static rule (``guard.rules``, ``vendor-op``) judges the names a kernel's source uses against them, and
the run-time record (``guard.dispatched``) the aten operators a checked call dispatched, both through
``guard.corners.vendor_family`` (private, fused, in-place and backward variants of a listed name count too).

Red-team round 21 (attack-z, class A) found the tables a deny-list of spellings with holes: ops that compute a
family's op under another name (a LayerNorm by ``instance_norm``/``batch_norm``, an RMSNorm by any of them on the
row ``[x, -x]``, a GEMM by ``_addmm_activation``, ``numpy.dot``, a conv by ``conv_tbc``), torch's own backward
kernels (``native_layer_norm_backward``), and op types that matched no keyword at all (``patch_embed``,
``cross_entropy``, ``post_norm_residual_add``): nothing forbidden there. So each family now lists the ops that compute
it (the norm families share one list: every norm is an RMSNorm or a LayerNorm of a suitable row), those op types have
keywords, and every bundled op type either has a family or a written reason in :data:`NO_FAMILY`
(``tests/test_families.py``): a new problem type that matches nothing is a decision, not a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass


#: The GEMMs and softmaxes that are a part, not the whole, of attention and a MoE layer, and the short convolution
#: of a Mamba block: the ops such kernels written in torch dispatch (``Family.parts``). A GEMM is a part of every
#: family's op but the ones that list it as their whole op (matmul, conv, embedding: a one-hot row times the table);
#: elsewhere it cannot do the whole op (a rotation by 2x2 matrices in a RoPE, a per-channel sum by ``einsum`` in a
#: norm's backward: red-team round 23, ac05, ac09).
_GEMM_PARTS = ("mm", "bmm", "matmul", "addmm", "baddbmm", "addbmm", "einsum", "linear", "dot", "mv", "addmv",
               "tensordot", "inner", "vdot",
               # torch's FP8 GEMM, mm's twin: one expert's block of a DeepGEMM-style FP8 MoE (red-team round 73, fb-FV1)
               "_scaled_mm", "_scaled_mm_v2")
#: a softmax and, for a backward through autograd, its backward (red-team round 23, ad02)
_SOFTMAX_PARTS = ("softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax", "_softmax_backward_data",
                  "_log_softmax_backward_data")
#: the triangular solves of a chunked linear attention (the gated delta rule's reference: round 23, ad15)
_SOLVE_PARTS = ("linalg_solve_triangular", "triangular_solve", "linalg_inv_ex", "linalg_inv")
_CONV_PARTS = ("conv1d", "convolution", "_convolution", "_convolution_mode", "mkldnn_convolution", "cudnn_convolution",
               "thnn_conv2d", "_slow_conv2d_forward", "_conv_depthwise2d", "conv_depthwise3d", "slow_conv_dilated2d",
               "slow_conv3d", "slow_conv3d_forward")

GEMM_PARTS, SOFTMAX_PARTS = frozenset(_GEMM_PARTS), frozenset(_SOFTMAX_PARTS)


@dataclass(frozen=True)
class Family:
    """Vendor calls that do a whole op, for the op types whose name contains one of ``keywords``."""

    label: str
    keywords: tuple[str, ...]
    qualified: tuple[str, ...]
    methods: tuple[str, ...] = ()
    cpp: str = ""  # a regular expression over stripped C++
    #: ``aten`` ops the family's honest kernels may dispatch beyond the primitives (``guard.operators``): a part
    #: of the whole op (a GEMM and a softmax inside attention), never one of ``qualified``
    parts: tuple[str, ...] = _GEMM_PARTS

    def matches(self, op_type: str) -> bool:
        op = op_type.lower()
        return any(k in op for k in self.keywords)


_F = "torch.nn.functional."
_CONV = (_F + "conv1d", _F + "conv2d", _F + "conv3d", "torch.conv1d", "torch.conv2d", "torch.conv3d", "torch.convolution",
         "torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d", "torch.cudnn_convolution", "torch.mkldnn_convolution",
         "torch.miopen_convolution", "torch.ops.aten.convolution", _F + "conv_transpose1d", _F + "conv_transpose2d",
         _F + "conv_transpose3d", "torch.conv_transpose1d", "torch.conv_transpose2d", "torch.conv_transpose3d",
         "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d",
         "torch.nn.LazyConv*",  # the lazy modules are the same convolutions (red-team round 45, by)
         # the convolutions' own backends, by name (round 20, x05: a 1x1 thnn_conv2d did a GEMM through BLAS)
         "torch._convolution", "torch.thnn_conv2d", "torch.slow_conv*", "torch.ops.aten._convolution",
         "torch.ops.aten.thnn_conv2d", "torch.ops.aten.slow_conv*", "torch.nn.functional.thnn_conv2d",
         "torch.nn.functional.slow_conv*", "torch.nn.functional._conv_depthwise2d",
         # round 21 (e18): conv_tbc (a 1-D conv, three of them a 3x3 one), cuDNN's fused conv + ReLU (relu(y) -
         # relu(-y) is y), the depthwise 3-D conv, and every other backend by its prefix
         "torch.conv_tbc", _F + "conv_tbc", "torch.cudnn_convolution_relu", "torch.cudnn_convolution_add_relu",
         "torch.cudnn_convolution_transpose", "torch.cudnn_convolution*", "torch.conv_depthwise3d",
         "torch.conv_depthwise*", "torch.miopen_convolution*", "torch.miopen_depthwise_convolution",
         "torch.mkldnn_convolution*", "torch.convolution*", "torch.nnpack_spatial_convolution*", "torch.mps_convolution*",
         "torch.ops.mkldnn",
         # a convolution's backward by input or weight, in Python over the backward op (round 40, a bundled reference)
         "torch.nn.grad")  # fmt: skip
_CONV_CPP = (r"\bcudnnConvolution\w*\s*\(|"
             r"\b(?:at|torch)::(?:conv[123]d|conv_transpose[123]d|convolution\w*|cudnn_convolution\w*|conv_tbc|"
             r"conv_depthwise\w*)\s*\(")  # fmt: skip
#: Every normalization: any of them is an RMSNorm on a mean-zero row (``[x, -x]``, round 21: e08, e17), and an
#: RMSNorm of ``x - mean(x)`` is a LayerNorm, so the RMSNorm and LayerNorm families share this list.
_NORMS = (_F + "layer_norm", "torch.layer_norm", "torch.nn.LayerNorm", "torch.native_layer_norm",
          "torch.native_layer_norm*", "torch.ops.aten.native_layer_norm",
          # one group's group norm is a layer norm (round 20, x04)
          _F + "group_norm", "torch.group_norm", "torch.native_group_norm", "torch.native_group_norm*",
          "torch.nn.GroupNorm", "torch.ops.aten.native_group_norm",
          # instance and batch norm of a transposed or unsqueezed row (round 21, e03, e04), every backend
          _F + "instance_norm", "torch.instance_norm", "torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d",
          "torch.nn.InstanceNorm3d", "torch.nn.LazyInstanceNorm1d", "torch.nn.LazyInstanceNorm2d",
          "torch.nn.LazyInstanceNorm3d", _F + "batch_norm", "torch.batch_norm", "torch.batch_norm*",
          "torch.native_batch_norm", "torch.native_batch_norm*", "torch._native_batch_norm_legit",
          "torch._native_batch_norm_legit_no_training", "torch._batch_norm_impl_index", "torch._batch_norm_with_update",
          "torch._batch_norm_no_update", "torch.cudnn_batch_norm", "torch.cudnn_batch_norm*", "torch.miopen_batch_norm",
          "torch.miopen_batch_norm*", "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d",
          "torch.nn.SyncBatchNorm", "torch.nn.LazyBatchNorm1d", "torch.nn.LazyBatchNorm2d", "torch.nn.LazyBatchNorm3d",
          _F + "rms_norm", "torch.rms_norm", "torch.nn.RMSNorm", "torch.ops.aten.rms_norm", "torch._fused_rms_norm",
          # x / ||x|| is an RMSNorm up to the constant sqrt(H); so are a row renormalized to the norm sqrt(H) (renorm
          # of a scaled-up x, embedding_renorm_, weight norm with g = sqrt(H)) and a local response norm whose window
          # spans the row (found while fixing round 21)
          _F + "normalize", "torch.renorm", "torch.embedding_renorm*", "torch._weight_norm*", "torch.norm_except_dim",
          "torch.nn.utils.weight_norm", "torch.nn.utils.parametrizations.weight_norm", _F + "local_response_norm",
          "torch.nn.LocalResponseNorm", "torch.quantized_batch_norm",
          # the cosine of x with each basis vector is x_i / ||x||: F.normalize in one call (red-team round 51, cq01,
          # cq02: an RMSNorm, and a LayerNorm of the centred row)
          "torch.cosine_similarity", _F + "cosine_similarity", "torch.nn.CosineSimilarity",
          "torch.cosine_embedding_loss", _F + "cosine_embedding_loss", "torch.nn.CosineEmbeddingLoss",
          # the local response norm's older autograd Function, a whole RMSNorm (and its backward) in Python where
          # its window spans the row (red-team round 40, bj04, bj08)
          "torch.nn.CrossMapLRN2d", "torch.nn.modules.normalization.CrossMapLRN2d",
          "flashinfer.norm", "flashinfer.rmsnorm", "flashinfer.fused_add_rmsnorm", "flashinfer.layernorm",
          "flashinfer.gemma_rmsnorm", "vllm._custom_ops", "sgl_kernel", "liger_kernel", "apex.normalization",
          "transformer_engine")  # fmt: skip
_NORMS_CPP = (r"\b(?:at|torch)::(?:rms_norm|_fused_rms_norm\w*|layer_norm|native_layer_norm\w*|group_norm|"
              r"native_group_norm\w*|instance_norm|batch_norm\w*|native_batch_norm\w*|_batch_norm\w*)\s*\(")  # fmt: skip
_SOFTMAX = ("torch.softmax", _F + "softmax", "torch.special.softmax", "torch._softmax", "torch.nn.Softmax",
            "torch.ops.aten._softmax", "flashinfer.sampling", _F + "softmin", "torch.nn.Softmin", _F + "log_softmax",
            "torch.log_softmax", "torch.special.log_softmax", "torch.nn.LogSoftmax", "torch._log_softmax",
            "torch._safe_softmax", "torch.ops.aten._safe_softmax", "torch._masked_softmax",
            "torch.ops.aten._masked_softmax",  # an all-False mask is no mask (round 20, x06)
            # the sparse and nested kernels (round 21, e06: x.to_sparse() through aten._sparse_softmax)
            "torch._sparse_softmax", "torch._sparse_log_softmax", "torch.sparse.softmax", "torch.sparse.log_softmax",
            "torch._nested_tensor_softmax_with_shape", "torch.ops.aten.special_softmax",
            "torch.ops.aten.special_log_softmax",
            # a channel softmax, a softmax of logits scaled past the noise (gumbel_softmax(s x, tau=s)), and the
            # adaptive softmax's clusters (found while fixing round 40)
            "torch.nn.Softmax2d", _F + "gumbel_softmax", "torch.nn.AdaptiveLogSoftmaxWithLoss",
            # a linear fused with a cross-entropy: its backward is softmax - one-hot (round 41, bm07)
            _F + "linear_cross_entropy", "torch.nn.LinearCrossEntropyLoss", "torch.ops.torch_nn",
            # exp(x - logsumexp(x)) is a softmax whose reduction is the library's; the last column of logcumsumexp
            # is logsumexp (red-team round 22, ab02, ab03)
            "torch.logsumexp", "torch.special.logsumexp", "torch.ops.aten.logsumexp", "torch.ops.aten.special_logsumexp",
            "torch.logcumsumexp*", "torch.special.logcumsumexp*", "torch.ops.aten.logcumsumexp*",
            "torch._logcumsumexp*", "torch.ops.aten._logcumsumexp*",
            # numpy's log-add-exp reduced along a row is that logsumexp outside the dispatcher (red-team round 29,
            # ao06); elementwise, on two arrays, it is a plain elementwise op
            *(f"numpy.{ufunc}.{how}" for ufunc in ("logaddexp", "logaddexp2")
              for how in ("reduce", "accumulate", "reduceat", "at")))  # fmt: skip (.at: round 33, aw01)
#: torch's library namespaces whose ops are whole GEMMs and convolutions (oneDNN, MKL, FBGEMM: red-team round 23, ac01,
#: ac04, ac06, ac10), and numpy's masked arrays and convolutions (ac08), which reach BLAS outside the dispatcher.
_LIBRARIES = ("torch.ops.mkldnn", "torch.ops.mkl", "torch.ops.onednn", "torch.ops.mkldnn_prepacked",
              "torch.ops.quantized", "torch.ops._quantized", "torch.fbgemm*", "torch.ops.aten.fbgemm*", "numpy.ma",
              "numpy.convolve", "numpy.correlate", "numpy.fft",
              # a polynomial product is a full 1-D convolution by numpy.convolve's routine (round 31, as03): the
              # products, powers and quotients and the classes whose `*` is one; not the table builders a Winograd
              # kernel uses at import (polyfromroots, polyvander, polyval: round 32, av FV-1)
              "numpy.polymul", "numpy.polydiv", "numpy.poly1d", "numpy.polynomial.polynomial.polymul",
              "numpy.polynomial.polynomial.polydiv", "numpy.polynomial.polynomial.polypow",
              "numpy.polynomial.polynomial.Polynomial", "numpy.polynomial.Polynomial",
              # the other bases' products, quotients, powers and classes; their points and tables are a Toom-Cook
              # kernel's (chebpts2: round 34, az FV-4), and the rest is judged by guard.numerics' allow-list
              *(f"numpy.polynomial.{kind}.{stem}{what}" for kind, stem in (
                  ("chebyshev", "cheb"), ("legendre", "leg"), ("hermite", "herm"), ("hermite_e", "herme"),
                  ("laguerre", "lag")) for what in ("mul", "div", "pow")),
              "numpy.polynomial.chebyshev.Chebyshev", "numpy.polynomial.legendre.Legendre",
              "numpy.polynomial.hermite.Hermite", "numpy.polynomial.hermite_e.HermiteE",
              "numpy.polynomial.laguerre.Laguerre", "numpy.polynomial.Chebyshev", "numpy.polynomial.Legendre",
              "numpy.polynomial.Hermite", "numpy.polynomial.HermiteE", "numpy.polynomial.Laguerre",
              "numpy.polynomial.polyutils")
#: x . w = (|x|^2 + |w|^2 - |x - w|^2) / 2: one pairwise-distance call does all of a GEMM's work (round 22, ab01),
#: and so does a similarity that broadcasts (x . w = cos(x, w) |x| |w|), or a loss built on either (round 40, bj06,
#: bj07): a GEMM's and a convolution's (im2col, then the identity) whole op
_DISTANCES = ("torch.cdist", "torch._cdist*", "torch.pdist", "torch._pdist*", "torch._euclidean_dist", _F + "pdist",
              "torch.ops.aten._cdist*", "torch.ops.aten._euclidean_dist", "torch.cosine_similarity",
              _F + "cosine_similarity", "torch.nn.CosineSimilarity", "torch.pairwise_distance", _F + "pairwise_distance",
              "torch.nn.PairwiseDistance", "torch.cosine_embedding_loss", _F + "cosine_embedding_loss",
              "torch.nn.CosineEmbeddingLoss", "torch.triplet_margin_loss", _F + "triplet_margin_loss",
              "torch.nn.TripletMarginLoss", _F + "triplet_margin_with_distance_loss",
              "torch.nn.TripletMarginWithDistanceLoss",
              # the distance of two whole tensors: one call per output element (red-team round 57, di03)
              "torch.dist", "torch.Tensor.dist")
_MATMUL_CORE = ("torch.matmul", "torch.mm", "torch.bmm", "torch.addmm", "torch.baddbmm", "torch.addbmm", "torch.einsum",
                "torch.tensordot", "torch.inner", _F + "linear", "torch.nn.Linear", "torch.ops.aten.mm",
                "torch.ops.aten.addmm", "torch.ops.aten.matmul", "torch.ops.aten.bmm", "operator.matmul",
                "operator.__matmul__", "numpy.matmul", "numpy.dot", "numpy.einsum", "cupy.matmul", "cupy.dot",
                # sparse GEMMs: a dense weight held as a full sparse tensor is a GEMM (red-team round 50, cn01)
                "torch.sspaddmm", "torch.smm", "torch.hspmm", "torch.sparse.mm", "torch.sparse.addmm")
_MATMUL_METHODS = ("matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "__rmatmul__", "__imatmul__",
                   # an ndarray's own GEMM methods (red-team round 24, ae04: x.numpy().dot(w.numpy().T))
                   "dot", "vdot", "inner", "tensordot",
                   "dist")  # x.dist(w): a tensor's distance to another, a dot product by the identity (round 57, di03)
VENDOR_FAMILIES: tuple[Family, ...] = (
    Family("matmul", ("gemm", "matmul", "linear", "proj", "mlp", "bmm", "lm_head"),
           ("torch.matmul", "torch.mm", "torch.bmm", "torch.addmm", "torch.baddbmm", "torch.addbmm", "torch.einsum",
            "torch.tensordot", "torch.inner", "torch.chain_matmul", "torch.linalg.matmul", "torch.linalg.multi_dot",
            _F + "linear", _F + "bilinear", "torch.nn.Linear", "torch._scaled_mm", "torch._scaled_grouped_mm",
            "torch._grouped_mm", "torch._int_mm", "torch.ops.aten.mm", "torch.ops.aten.addmm", "torch.ops.aten.matmul",
            "torch.ops.aten._scaled_mm", "flashinfer.gemm", "deep_gemm", "vllm._custom_ops", "sgl_kernel",
            "transformer_engine", "cupy.matmul", "numpy.matmul", "operator.matmul", "operator.imatmul",
            "operator.__matmul__", "torch.mv", "torch.addmv", "torch.ops.aten.mv", "torch.ops.aten.addmv",
            # round 21 (e05, e07): the GEMM with an epilogue, the v2 scaled GEMMs, and torch 2.13's other GEMM
            # kernels by name (quantized, sparse, packed weights); their prefixes catch the next version's
            "torch._addmm_activation", "torch._scaled_mm*", "torch._scaled_grouped_mm*", "torch._grouped_mm*",
            "torch._cslt_sparse_mm*", "torch._dyn_quant_matmul*", "torch._mixed_dtypes_linear", "torch._sparse_addmm",
            "torch._sparse_mm*", "torch._sparse_semi_structured*", "torch._sparse_sparse_matmul", "torch._trilinear",
            "torch._weight_int4pack_mm*", "torch._weight_int8pack_mm*", "torch._wrapped_linear_prepack",
            "torch._wrapped_quantized_linear_prepacked", "torch.dot", "torch.vdot", "torch.fbgemm_linear*",
            "torch.hspmm", "torch.smm", "torch.sspaddmm", "torch.sparse_sampled_addmm", "torch.sparse.mm",
            "torch.sparse.addmm", "torch.sparse.sampled_addmm", "torch.linalg.vecdot", "torch.mkldnn_linear*",
            "torch.bilinear", "torch.nn.Bilinear", "torch.ops.aten.linalg_matmul", "torch.ops.aten.linalg_multi_dot",
            "torch.ops.aten.linalg_vecdot", "torch.ops.mkldnn",
            # torch.nn.functional's GEMMs of torch 2.13 and its linear fused with a cross-entropy (round 40's sweep)
            _F + "grouped_mm", _F + "scaled_grouped_mm", _F + "scaled_mm", _F + "linear_cross_entropy",
            "torch.nn.LinearCrossEntropyLoss",
            # a weighted embedding bag over all K rows of W^T, the weights x's row, is x @ W^T (found while fixing
            # round 21)
            _F + "embedding_bag", "torch.embedding_bag", "torch.embedding_bag*", "torch.nn.EmbeddingBag",
            # a list of GEMMs, and coefficients @ a stack of matrices
            "torch._foreach_mm*", "torch._compute_linear_combination",
            # numpy's and cupy's GEMMs (round 21, e16): BLAS and cuBLAS outside torch's dispatcher, so only this
            # static rule sees them
            "numpy.dot", "numpy.vdot", "numpy.inner", "numpy.einsum", "numpy.tensordot", "numpy.linalg.multi_dot",
            "numpy.linalg.matmul", "numpy.linalg.tensordot", "numpy.linalg.vecdot", "numpy.vecdot", "numpy.matvec",
            "numpy.vecmat", "cupy.dot", "cupy.vdot", "cupy.inner", "cupy.einsum", "cupy.tensordot", "cupy.linalg",
            "cupy.cublas", "cupy.matvec", "cupy.vecmat", "cupy.vecdot",
            # numpy's matrix class multiplies by BLAS under `*`, and the rest of numpy.linalg reaches the same BLAS
            # (red-team round 22, ab07)
            "numpy.matrix", "numpy.asmatrix", "numpy.mat", "numpy.bmat", "numpy.matrixlib", "numpy.linalg",
            "numpy.cov", "numpy.corrcoef", "numpy.kron",
            "numpy.outer",  # trace(outer(a, b)) is a dot product, one per output element (round 54, cz02)
            *_DISTANCES,  # x . w from distances and similarities (rounds 22 and 40)
            # the distances' identity, and dot products outright, in the standard library (round 29, ao05)
            "math.dist", "math.hypot", "math.sumprod", "statistics.covariance", "statistics.correlation",
            "statistics.linear_regression",
            # a weighted mean with weights summing to one is a dot product; numpy's matrix class under another
            # module's name multiplies by BLAS under `*` (round 32, au01, au02)
            "statistics.fmean", "numpy.matlib", "operator.__imatmul__",
            # modules that hold whole GEMMs under names no rule held (red-team round 45, by01, by02: a LazyLinear in
            # the calls no record sees): the lazy linear, the recurrent cells and layers (x @ W_ih^T + h @ W_hh^T),
            # and products by other names. torch's powers, exponentials and solves of matrices dispatch their bmm
            # or mm, which the record judges (red-team kernels of rounds 24 to 28 go that way on purpose)
            "torch.nn.LazyLinear", "torch.nn.modules.linear.LazyLinear", "torch.nn.RNNCell", "torch.nn.GRUCell",
            "torch.nn.LSTMCell", "torch.nn.RNN", "torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNNBase",
            "torch.nn.RNNCellBase", "torch.nn.modules.rnn", "torch.rnn_relu*", "torch.rnn_tanh*", "torch.lstm*",
            "torch.gru*", "torch.quantized_lstm*", "torch.quantized_gru*", "torch.quantized_rnn*", "torch.kron",
            "torch.cov", "torch.corrcoef",
            # FBGEMM's and the quantized modules' linear (round 22, ab04: quantized::linear_dynamic_fp16 is a whole
            # x @ W^T in fp16 weights)
            "torch.ops.quantized", "torch.ops._quantized", "torch.ao.nn.quantized", "torch.nn.quantized",
            "torch.ao.nn.intrinsic", "torch.nn.intrinsic",
            # a 1x1 convolution is a GEMM (x @ W^T + b, cuDNN/oneDNN): the conv calls do the whole op too (round 18)
            *_CONV, *_LIBRARIES),
           ("matmul", "mm", "bmm", "addmm", "baddbmm", "__matmul__", "__rmatmul__", "__imatmul__",
            "mv", "addmv", "dot", "addmm_",
            "baddbmm_", "addbmm", "addbmm_", "addmv_", "dist"),
           _CONV_CPP + r"|\bcublas\w*\s*\(|\bcublasLt\w*\s*\(|\b(?:at|torch)::(?:matmul|mm|bmm|addmm|linear|_scaled_mm"
           r"\w*|_addmm_activation)\s*\(|(?:\.|->)\s*(?:matmul|mm|bmm|addmm|baddbmm)\s*\(", ()),
    # post_norm: OLMo-2's post-norm (round 21, e15: the RMSNorm is all the work but one add)
    Family("rmsnorm", ("rmsnorm", "rms_norm", "post_norm"), _NORMS, ("renorm", "renorm_"), _NORMS_CPP),
    # groupnorm: the op types that name a group norm (round 21, e09); adaln: LayerNorm, then a scale and shift
    Family("layernorm", ("layernorm", "layer_norm", "groupnorm", "group_norm", "adaln"), _NORMS, ("renorm", "renorm_"),
           _NORMS_CPP),
    Family("softmax", ("softmax",), _SOFTMAX, ("softmax", "softmin", "log_softmax", "logsumexp", "logcumsumexp"),
           r"\b(?:at|torch)::(?:softmax|_softmax|log_softmax|_log_softmax|_sparse_softmax|_sparse_log_softmax)\s*\("),
    # round 21 (e02): the per-token loss is logsumexp(x) - x[label]; the softmax family's calls are all of it too
    Family("cross_entropy", ("cross_entropy",),
           (_F + "cross_entropy", _F + "nll_loss", "torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nll_loss*",
            "torch.cross_entropy_loss", "torch.ops.aten.cross_entropy_loss", "torch.ops.aten.nll_loss*",
            "torch.logsumexp", "torch.special.logsumexp", "torch.ops.aten.logsumexp", "torch.ops.aten.special_logsumexp",
            "liger_kernel", _F + "linear_cross_entropy", "torch.nn.LinearCrossEntropyLoss", *_SOFTMAX),
           ("softmax", "softmin", "log_softmax", "logsumexp"),
           r"\b(?:at|torch)::(?:cross_entropy\w*|nll_loss\w*|logsumexp|softmax|_softmax|log_softmax|_log_softmax)\s*\("),
    Family("attention", ("attention", "attn", "gqa", "mha", "mla", "decode", "prefill", "sdpa"),
           (_F + "scaled_dot_product_attention", "torch.nn.MultiheadAttention", _F + "multi_head_attention_forward",
            # the transformer layers hold one as ``self_attn`` (round 41, bm01)
            "torch.nn.Transformer", "torch.nn.TransformerEncoder", "torch.nn.TransformerEncoderLayer",
            "torch.nn.TransformerDecoder", "torch.nn.TransformerDecoderLayer",
            "torch.nn.attention", "torch.ops.aten._scaled_dot_product*", "torch._scaled_dot_product*",
            "torch.ops.aten._flash_attention*", "torch.ops.aten._efficient_attention*",
            "torch.ops.aten._cudnn_attention*", "torch._native_multi_head_attention",
            "torch._transformer_encoder_layer_fwd",
            # the flex-attention higher-order op called directly (round 21, e19), torch's placeholders
            "torch.ops.higher_order.flex_attention", "torch.ops.higher_order.flex_attention_backward",
            "torch._higher_order_ops.flex_attention", "torch._triton_scaled_dot_attention",
            "torch._triton_multi_head_attention",
            "flash_attn", "flashinfer", "xformers", "vllm", "sgl_kernel", "flex_attention",
            # ONNX's reference Attention-23, a custom op whose Python body is plain matmul + softmax + matmul when
            # called directly (red-team round 39, bh06)
            "torch.onnx.ops"), (),
           r"\b(?:at|torch)::(?:scaled_dot_product_attention|_scaled_dot_product_\w+|_\w+_attention_forward)\s*\(",
           _GEMM_PARTS + _SOFTMAX_PARTS + _SOLVE_PARTS),
    Family("silu_and_mul", ("silu_and_mul", "swiglu", "silu"),
           (_F + "silu", "torch.nn.SiLU", "torch.ops.aten.silu", "flashinfer.activation", "vllm._custom_ops",
            "sgl_kernel", "liger_kernel",
            # glu(cat([gate * up, gate])) is silu(gate) * up
            _F + "glu", "torch.nn.GLU", "torch.ops.aten.glu", "torch.glu*"), (), r"\b(?:at|torch)::(?:silu|glu)\s*\("),
    Family("gelu", ("gelu",), (_F + "gelu", "torch.nn.GELU", "torch.ops.aten.gelu", "flashinfer.activation",
                               "torch.infinitely_differentiable_gelu*"), (),
           r"\b(?:at|torch)::gelu\w*\s*\("),
    # patch_embed: a ViT's patch embedding is a conv of stride = kernel (round 21, e01)
    # im2col (F.unfold) and a library GEMM do all of a convolution's FLOPs (red-team round 22, ab06)
    Family("conv", ("conv", "patch_embed"), (*_CONV, *_MATMUL_CORE, *_DISTANCES, *_LIBRARIES, "torch.ao.nn.quantized"),
           _MATMUL_METHODS, _CONV_CPP, ()),
    Family("rope", ("rope", "rotary"), ("flashinfer.rope", "flashinfer.apply_rope", "vllm._custom_ops", "sgl_kernel",
                                        "liger_kernel", "transformer_engine",
                                        "torch.onnx.ops"),  # ONNX's RotaryEmbedding-23 and its body (round 39, bh07)
           (), ""),
    Family("mamba", ("mamba", "ssm", "selective"), ("mamba_ssm", "causal_conv1d"), (), "", _GEMM_PARTS + _CONV_PARTS),
    Family("moe", ("moe",), ("torch._grouped_mm", "vllm", "sgl_kernel", "deep_gemm"), (), "",
           _GEMM_PARTS + _SOFTMAX_PARTS),
    # round 21: the table lookup (weight[ids] is indexing, a primitive; these are the library's embedding ops)
    Family("embedding", ("embedding",), (_F + "embedding", _F + "embedding_bag", "torch.nn.Embedding",
                                         "torch.nn.EmbeddingBag", "torch.embedding", "torch.embedding_bag",
                                         "torch.embedding*", "torch.ops.aten.embedding*",
                                         # a one-hot row times the table is the lookup (red-team round 23)
                                         *_MATMUL_CORE, *_LIBRARIES), _MATMUL_METHODS,
           r"\b(?:at|torch)::(?:embedding\w*|_embedding_bag\w*)\s*\(", ()),
)

#: The bundled op types no family's keyword matches, each with why no library call does it whole (or why the one
#: that comes close is a part, where forbidding it would fail honest kernels). tests/test_families.py holds every
#: bundled op type to a family or an entry here, so that a new op type without a family is a decision.
NO_FAMILY: dict[str, str] = {
    "top_k_top_p_renorm": "sampling's renormalization: a sort and a prefix sum over the probabilities; torch.softmax "
                          "of the logits is one step of it, which honest kernels may hand to torch",
    "dsa_topk_indexer": "index scores then a top-k selection of 2048: a library GEMM for the scores is one part",
    "fp8_group_quant": "per-group absmax and a cast: no library op does the quantization whole",
    "fp8_per_token_quant": "per-token absmax and a cast: no library op does the quantization whole",
    "gate_residual": "an elementwise gate and residual add: no library op does it whole",
    "paged_kv_append": "a scatter into pages: index_copy/index_put are primitives, like the indexing of a kernel",
    "paged_kv_append_fp8": "a quantize and scatter into pages: primitives only",
    "ssd_chunk_scan": "several batched GEMMs, cumulative sums and decays per chunk: a library GEMM is one part",
    "hyena_operator": "a short conv, a long FFT conv and gates (BLOCK_PARTS: the long conv may be the library's "
                      "FFT; BLOCK_ALONE: no library conv)",
    "resnet_block_temb": "a fused block (two group norms, two convs, a linear, SiLU): no one call does it whole "
                         "(BLOCK_PARTS: the library may do its norms or its convs, not both)",
}


#: Libraries of fused kernels for the ops these problems come from: in an op type of no family, the one that names
#: the problem's op may do it whole (FlashInfer's ``top_k_renorm_probs`` for ``top_k_top_p_renorm``: red-team round
#: 41, bm04), so a kernel of such an op type may use none of them (families name theirs one by one).
KERNEL_LIBRARIES = ("flashinfer", "vllm", "sgl_kernel", "deep_gemm", "liger_kernel", "transformer_engine",
                    "flash_attn", "xformers", "apex", "fbgemm_gpu", "triton_kernels", "mamba_ssm", "causal_conv1d",
                    "fla", "flash_mla", "deep_ep", "torchao")

def library_of_no_family(*names: str) -> str | None:
    """Why a name of a kernel of an op type with no family is refused: it is one of :data:`KERNEL_LIBRARIES`'."""
    library = next((lib for lib in KERNEL_LIBRARIES for n in names if n == lib or n.startswith(lib + ".")), None)
    return library and (f"{library} is a library of fused kernels, which may do the op whole, and an op type with no "
                        "family has no list to tell a part of it from the whole")


#: Fused blocks of no family whose heavy parts are families' whole ops (or an FFT): the library may do one of those
#: parts, not every one (``guard.dispatched.finding``). Their problems' references, copied verbatim (library group
#: norms and convolutions; a library short conv and FFT long conv), passed under strict (red-team round 40, bl22,
#: bl25). A small GEMM (the time embedding's projection) is not counted.
BLOCK_PARTS: dict[str, tuple[str, ...]] = {
    "resnet_block_temb": ("layernorm", "conv"),
    "hyena_operator": ("conv", "fft"),
}
#: Parts of a block that the library may not do at all: a library conv1d whose kernel is the whole sequence does
#: Hyena's long filter (round 41, bm02: the short and the long filter both by ``F.conv1d``, one "conv" part); the
#: short filter is three taps, written by hand, and the long one may be the library's FFT.
BLOCK_ALONE: dict[str, tuple[str, ...]] = {"hyena_operator": ("conv",)}


def vendor_families(op_type: str) -> list[Family]:
    """The one family whose vendor calls do the whole ``op_type``; none for a fused op of several (see below)."""
    matching = [family for family in VENDOR_FAMILIES if family.matches(op_type)]
    return matching if len(matching) == 1 else []


def matching_families(op_type: str) -> list[Family]:
    """Every family whose keyword ``op_type`` holds: one for a plain op, several for a fused one (``linear_gelu``)."""
    return [family for family in VENDOR_FAMILIES if family.matches(op_type)]


def family_tables(families: list[Family]) -> tuple[dict[str, str], dict[str, str]]:
    """(qualified name -> family, method name -> family) of the families' vendor calls."""
    qualified: dict[str, str] = {}
    methods: dict[str, str] = {}
    for family in families:
        qualified.update(dict.fromkeys(family.qualified, family.label))
        methods.update(dict.fromkeys(family.methods, family.label))
    return qualified, methods


def vendor_names(op_type: str) -> tuple[dict[str, str], dict[str, str]]:
    """(qualified name -> family, method name -> family) of the vendor calls that do the whole ``op_type``.

    A fused op that names several families (``layernorm_linear_gelu``) has none: a vendor call of one part
    (``torch.matmul`` for the linear) does not do the whole op, and hand-writing the rest around it is honest."""
    return family_tables(vendor_families(op_type))


def family_parts(op_type: str) -> frozenset[str]:
    """The ``aten`` ops beyond the primitives that honest kernels of ``op_type`` may dispatch (``Family.parts``, of
    every family a fused op names)."""
    return frozenset(part for family in matching_families(op_type) for part in family.parts)
