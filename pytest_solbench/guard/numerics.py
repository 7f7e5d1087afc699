"""The names of numpy, ``math``, ``statistics`` and torch's modules a kernel of a library-op family may use: an
allow-list.

Rounds 21 to 33 of the red team found, one at a time, numpy and standard-library routines that do a family's whole
op in C or BLAS, outside torch's dispatcher and so outside the operator record: ``numpy.einsum``, ``c_einsum``,
``correlate``, ``polymul``, ``numpy.matlib``, ``logaddexp.reduce``, ``math.dist``, ``statistics.fmean``... The family
tables (``guard.families``) were a deny-list inside modules the import rule lets in whole, so the next routine
nobody listed was a way in. Where an op type has a family, a name of these modules must now be one of the kinds an
honest kernel uses them for (:func:`unlisted_routine`):

* numpy's products where a GEMM is a part of the family's op (attention, a norm's backward), as torch's are;
* elementwise ufuncs (``numpy.exp``) and their reductions (``numpy.add.reduce`` is a sum), but not the ufuncs that
  are products (``matmul``, ``vecdot``, ``matvec``, ``vecmat``);
* array types, scalar types, ``dtype``, ``finfo``, constants;
* creating, reshaping, indexing, sorting and searching arrays; plain reductions (sums, means, extrema, quantiles);
* reading and writing files, which the run-time audit judges by their paths (as it does ``open``);
* host-side tables: windows, ``vander``, polynomial evaluation and the table builders a Winograd kernel uses
  (``polyfromroots``, round 32);
* ``numpy.random``, ``numpy.testing``, ``numpy.typing``, ``numpy.dtypes``, ``numpy.exceptions``, ``numpy.emath``.

Of torch, only its public modules on :data:`_TORCH_MODULES` (round 40: ``torch.distributions`` held a softmax in
Python, ``torch.masked`` a ``normalize``, ``torch.ao`` an attention). These lists hold in a fused op's kernel too,
where numpy's products are refused: the record counts a fused op's library parts, and numpy's are in no record.

Anything else (a product, a convolution, a factorization, a transform, a masked or matrix class, a routine numpy
adds next year) is ``unlisted-routine``, which a kernel that needs it for another job may allow with a written
reason; ``--solbench-guard strict`` refuses that allowance. The families' own entries are judged as before, so a listed
name that is a family's op (``numpy.logaddexp.reduce`` in a softmax) is still ``vendor-op``.
"""

from __future__ import annotations

import ast
import functools
from typing import Callable, Iterable

from pytest_solbench.guard.names import is_module, lookup

#: the ufuncs that are products: a GEMM, a batched dot, a matrix-vector product (numpy 2)
_PRODUCT_UFUNCS = frozenset(("matmul", "vecdot", "matvec", "vecmat"))
#: numpy's classes a kernel may use (the scalar types, subclasses of ``numpy.generic``, are all fine); not
#: ``matrix`` (``*`` is BLAS), ``poly1d`` (``*`` is a convolution), ``memmap`` (a file), ``recarray``, ``busdaycalendar``
_NUMPY_CLASSES = frozenset(("ndarray", "dtype", "generic", "number", "finfo", "iinfo", "errstate", "ufunc", "broadcast",
                            "flatiter", "nditer", "ndenumerate", "ndindex", "vectorize"))
#: numpy's functions a kernel may use, numpy 1's names among them (``trapz``, ``in1d``, ``product``). ``outer`` and
#: ``kron`` are broadcast products with no sum: a ``trace`` of one summing a convolution's products (red-team round
#: 56, df02, df03) is the kernel's own multiply and sum, as ``(windows * taps).sum(-1)`` is; refusing them at run time
#: failed honest tables built in helpers, lambdas and cached builders (round 58, dn FV-1 to FV-5). Where a GEMM is
#: the whole op the matmul family names them (round 54).
_NUMPY_FUNCTIONS = frozenset("""
    all allclose alltrue amax amin angle any append apply_along_axis apply_over_axes arange argmax argmin argpartition
    array2string kron
    argsort argwhere around array array_equal array_equiv array_repr array_split array_str asanyarray asarray
    asarray_chkfinite ascontiguousarray asfarray asfortranarray astype atleast_1d atleast_2d atleast_3d average
    bartlett base_repr binary_repr bincount blackman block broadcast_arrays broadcast_shapes broadcast_to can_cast
    choose clip column_stack common_type compress concat concatenate copy copyto count_nonzero cross cumprod
    cumproduct cumsum cumulative_prod cumulative_sum delete diag diag_indices diag_indices_from diagflat diagonal diff
    digitize dsplit dstack ediff1d einsum_path empty empty_like expand_dims extract eye fill_diagonal find_common_type
    fix flatnonzero flip fliplr flipud format_float_positional format_float_scientific from_dlpack frombuffer
    fromfunction fromiter frompyfunc full full_like geomspace get_printoptions geterr gradient hamming hanning
    histogram histogram2d histogram_bin_edges histogramdd hsplit hstack i0 identity imag in1d indices insert interp
    intersect1d isclose iscomplex iscomplexobj isdtype isfortran isin isneginf isposinf isreal isrealobj isscalar
    issubdtype iterable ix_ kaiser lexsort linspace load logspace mask_indices matrix_transpose max may_share_memory
    mean median meshgrid min min_scalar_type mintypecode moveaxis msort nan_to_num nanargmax nanargmin nancumprod
    nancumsum nanmax nanmean nanmedian nanmin nanpercentile nanprod nanquantile nanstd nansum nanvar ndim nonzero
    ones ones_like outer packbits pad partition percentile permute_dims piecewise place poly polyadd polyder polyint
    polysub polyval printoptions prod product promote_types ptp put put_along_axis putmask quantile ravel
    ravel_multi_index real real_if_close repeat require reshape resize result_type roll rollaxis rot90 round round_
    row_stack searchsorted select set_printoptions setdiff1d seterr setxor1d shape shares_memory sinc size sometrue
    sort sort_complex split squeeze stack std sum swapaxes take take_along_axis tile trace transpose trapezoid trapz
    tri tril tril_indices tril_indices_from trim_zeros triu triu_indices triu_indices_from typename union1d unique
    unique_all unique_counts unique_inverse unique_values unpackbits unravel_index unstack unwrap vander var vsplit
    vstack where zeros zeros_like
    fromfile genfromtxt loadtxt save savetxt savez savez_compressed""".split())  # files: the run-time audit judges them
_NUMPY_CONSTANTS = frozenset(("pi", "e", "inf", "nan", "newaxis", "euler_gamma", "little_endian", "typecodes",
                              "sctypeDict", "ScalarType", "False_", "True_", "s_", "index_exp", "mgrid",
                              "ogrid", "__version__", "PINF", "NINF", "NAN", "NaN", "Inf", "Infinity", "infty"))
#: numpy's modules a kernel may use whole; of ``numpy.testing`` only its assertions (its ``overrides`` hands every
#: ufunc out as data, round 34, ay01), and not ``numpy.r_``/``c_``, whose directive ``"r"`` makes a ``numpy.matrix``
#: (``*`` is BLAS, ay02)
_NUMPY_MODULES = ("numpy.random", "numpy.typing", "numpy.version", "numpy.dtypes", "numpy.exceptions", "numpy.emath",
                  "numpy.lib.scimath")
#: names of numpy's other modules a kernel may use
_NUMPY_NAMES = frozenset(("numpy.testing", "numpy.testing.suppress_warnings",
                          *(f"numpy.testing.{name}" for name in ("assert_allclose", "assert_array_equal",
                            "assert_array_almost_equal", "assert_array_less", "assert_equal", "assert_almost_equal",
                            "assert_approx_equal", "assert_array_max_ulp", "assert_array_almost_equal_nulp",
                            "assert_raises", "assert_warns", "assert_", "assert_string_equal", "assert_no_warnings")),
                          "numpy.lib.stride_tricks.as_strided", "numpy.lib.stride_tricks.sliding_window_view",
                          "numpy.lib.stride_tricks.broadcast_to", "numpy.lib.NumpyVersion", "numpy.linalg.norm",
                          # norms of one vector or matrix, and views (round 34, az FV-5)
                          "numpy.linalg.vector_norm", "numpy.linalg.matrix_norm", "numpy.linalg.matrix_transpose",
                          "numpy.linalg.diagonal", "numpy.linalg.trace",
                          "numpy.lib.stride_tricks",
                          # the table builders and evaluators of a polynomial (a Winograd kernel's transforms, round
                          # 32, av FV-1); not its products, quotients, powers, fits or classes
                          *(f"numpy.polynomial.{kind}.{stem}{what}"
                            for kind, stem in (("polynomial", "poly"), ("chebyshev", "cheb"), ("legendre", "leg"),
                                               ("hermite", "herm"), ("hermite_e", "herme"), ("laguerre", "lag"))
                            for what in ("fromroots", "vander", "vander2d", "vander3d", "val", "val2d", "val3d",
                                         "valfromroots", "der", "int", "add", "sub", "line", "zero", "one", "x",
                                         "trim", "pts1", "pts2", "gauss", "weight", "domain", "interpolate")),
                          "numpy.polynomial.polynomial", "numpy.polynomial"))  # fmt: skip
#: ``math``'s names but ``dist``, ``hypot`` and ``sumprod`` (a pairwise distance and dot products in C, round 29)
_MATH = frozenset("""
    acos acosh asin asinh atan atan2 atanh cbrt ceil comb copysign cos cosh degrees e erf erfc exp exp2 expm1 fabs
    factorial floor fma fmod frexp fsum gamma gcd inf isclose isfinite isinf isnan isqrt lcm ldexp lgamma log log10
    log1p log2 modf nan nextafter perm pi pow prod radians remainder sin sinh sqrt tan tanh tau trunc ulp""".split())
#: ``statistics``' names but ``covariance``, ``correlation``, ``linear_regression`` (dot products) and ``kde`` (a
#: sum of kernels at every point); ``fmean`` only called on one argument (:data:`PLAIN_CALL_ONLY`)
_STATISTICS = frozenset(("NormalDist", "StatisticsError", "fmean", "geometric_mean", "harmonic_mean", "mean", "median",
                         "median_grouped", "median_high", "median_low", "mode", "multimode", "pstdev", "pvariance",
                         "quantiles", "stdev", "variance"))


#: numpy's products, a part of the op of a family whose honest kernels may hand their GEMMs to a library (the
#: torch twins are ``families.GEMM_PARTS``: a GEMM inside attention); never where a GEMM does the whole op
_NUMPY_PRODUCTS = frozenset(("dot", "vdot", "inner", "outer", "einsum", "tensordot", "kron", "matmul", "vecdot",
                             "matvec", "vecmat", "linalg.multi_dot", "linalg.matmul", "linalg.tensordot",
                             "linalg.vecdot",
                             # solves, inverses and fits: a block-triangular system's solution holds a product
                             # ([[I, A, 0], [0, I, B], [0, 0, I]]^-1 has AB in its corner), so they are products too,
                             # a part where a GEMM is one (a fit of tanh at import in a GELU: round 34, az FV-2)
                             "linalg.inv", "linalg.solve", "linalg.lstsq", "linalg.pinv", "linalg.det",
                             "linalg.slogdet", "linalg.eig", "linalg.eigh", "linalg.eigvals", "linalg.eigvalsh",
                             "linalg.svd", "linalg.svdvals", "linalg.qr", "linalg.cholesky", "linalg.matrix_rank",
                             "linalg.matrix_power", "linalg.cond", "polyfit", "roots"))

#: the standard library's products and distances, a part where numpy's are (a norm by ``math.hypot``, round 33)
_STDLIB_PRODUCTS = frozenset(("math.dist", "math.hypot", "math.sumprod", "statistics.fmean", "statistics.covariance",
                              "statistics.correlation", "statistics.linear_regression"))


#: torch's public modules a kernel of a library-op family may use, and those of ``torch.nn`` and ``torch.utils``:
#: their names are judged by the families and the other rules. The rest hold whole ops written in Python, which the
#: operator record sees as it sees a kernel's own code (``torch.distributions.transforms.SoftmaxTransform`` is a
#: softmax, ``torch.masked.normalize`` a ``normalize``, ``torch.ao.nn.quantizable.MultiheadAttention`` an attention:
#: red-team round 40, bj01 to bj10), or have no business in a kernel (optimizers, export, distributed). Private
#: modules have a rule of their own (``guard.corners``).
_TORCH_MODULES = {
    "torch": frozenset(("accelerator", "amp", "autograd", "backends", "compiler", "cpu", "cuda", "fft", "func",
                        "functional", "jit", "library", "linalg", "mps", "mtia", "xpu", "nn", "overrides", "profiler",
                        "random", "return_types", "special", "testing", "types", "utils", "version", "torch_version",
                        "storage", "signal", "quasirandom", "nested", "distributions",
                        # its products and softmaxes are the families' names (round 51, cs FV-1: torch.sparse.sum)
                        "sparse")),
    "torch.nn": frozenset(("functional", "init", "modules", "parameter", "common_types", "utils")),
    "torch.utils": frozenset(("dlpack", "hooks", "deterministic", "backcompat", "cpp_extension", "checkpoint")),
    # of these, what honest kernels use (round 41, bo FV-2, FV-7): sequences padded and packed; the normal law's
    # cdf and density, which are erf and exp (its neighbours hold a softmax: ``transforms``, ``categorical``)
    "torch.nn.utils": frozenset(("rnn",)),
    "torch.distributions": frozenset(("normal",)),
}


#: Yes/no questions asked of modules off the list, which compute nothing: Hugging Face's export guard, a
#: tensor-parallel layer's world size (red-team round 44, bx10, bx11)
_TORCH_QUERIES = frozenset(("torch.onnx.is_in_onnx_export", "torch.distributed.is_available",
                            "torch.distributed.is_initialized", "torch.distributed.get_world_size",
                            "torch.distributed.get_rank", "torch.distributed.is_torchelastic_launched"))


def _torch_outside(name: str) -> str | None:
    """The module of torch's that ``name`` reaches outside :data:`_TORCH_MODULES`, or None."""
    if name in _TORCH_QUERIES or name in {q.rpartition(".")[0] for q in _TORCH_QUERIES}:
        return None  # the module itself too (``import torch.distributed as dist``): its other names stay judged
    parts = name.split(".")
    for depth in range(1, len(parts)):
        owner, sub = ".".join(parts[:depth]), parts[depth]
        listed = _TORCH_MODULES.get(owner)
        if listed is None or sub.startswith("_"):
            return None
        if sub not in listed:
            if _a_module(f"{owner}.{sub}"):
                return f"{owner}.{sub}"
            # a name the package re-exports is judged by the module that defines it: torch.distributions'
            # SoftmaxTransform is torch.distributions.transforms' (red-team round 42, bp02, bp04, bp05)
            home = getattr(lookup(f"{owner}.{sub}")[1], "__module__", None)
            return _torch_outside(home) if isinstance(home, str) and home.split(".")[0] == "torch" and (
                home != owner) else None  # fmt: skip
    return None


@functools.lru_cache(maxsize=None)
def _a_module(dotted: str) -> bool:
    return is_module(dotted)


def _numpy_allows(rest: list[str], products: bool) -> bool:
    """Whether ``numpy.<rest>`` is a name of the allow-list (its attributes too: ``numpy.add.reduce``)."""
    import numpy

    head = rest[0]
    if rest[-1] in PRODUCT_SAMPLERS:
        return products
    if products and (head in _NUMPY_PRODUCTS or ".".join(rest[:2]) in _NUMPY_PRODUCTS or head == "polynomial"):
        return True  # numpy.polynomial whole too: its fits and classes (Polynomial.fit of tanh, round 35, bb FV-1)
    if head in _NUMPY_FUNCTIONS or head in _NUMPY_CONSTANTS or head in _NUMPY_CLASSES:
        return True
    value = getattr(numpy, head, None)
    if _an_exception(rest):  # numpy.linalg.LinAlgError in an except clause (round 35, bb FV-6)
        return True
    if isinstance(value, numpy.ufunc):  # multiply.outer is numpy.outer (round 55, dc02: a trace of it, a conv)
        return head not in _PRODUCT_UFUNCS and (rest[:2] != ["multiply", "outer"] or products)
    if isinstance(value, type) and issubclass(value, numpy.generic):  # float32, int64, bool_...
        return True
    dotted = ".".join(("numpy", *rest))
    if any(dotted == n or dotted.startswith(n + ".") for n in _NUMPY_MODULES):
        return True
    # a listed name, a module on the way to one (numpy.lib), or what a listed function or class holds; of a listed
    # module only its listed names (numpy.testing.overrides is no assertion)
    return any(dotted == n or n.startswith(dotted + ".") or dotted.startswith(n + ".") and not is_module(n)
               for n in _NUMPY_NAMES)  # fmt: skip


#: Names on the list only where they are called where they are named, with only the arguments that weigh nothing
#: (how many positional ones, which named ones): a weighted mean (``statistics.fmean(x, weights=w)``, round 32) is a
#: dot product, a plain one is a mean (round 34, az FV-6); :data:`PLAIN_CALL_ONLY` names them.
_UNWEIGHTED = {
    "statistics.fmean": (1, frozenset(("data",))),  # weights=: a dot product (round 32)
    # average([W, 0], weights=[x, 1 - sum(x)]) is each row's dot product, a GEMM one row at a time (round 52, ct01)
    "numpy.average": (2, frozenset(("a", "axis", "keepdims"))),
    # trapezoid(y, x): sum(diff(x) * (y[1:] + y[:-1]) / 2), a dot product with x's steps (y each value twice, x the
    # running sum of [W0, 0, W1, 0, ...]: a GEMM, round 53, cw01); not dx either, which may be an array of steps
    "numpy.trapezoid": (1, frozenset(("y", "axis"))), "numpy.trapz": (1, frozenset(("y", "axis"))),
    # harmonic_mean(1 / b, weights=a) is sum(a) / sum(a * b): a dot product (round 54, cz01)
    "statistics.harmonic_mean": (1, frozenset(("data",))),
    # a matrix's 2-norm, -2-norm and nuclear norm (ord) are an SVD: the largest singular value of [a; b + t a] holds
    # a . b (round 55, dc01); its Frobenius and vector norms pass
    "numpy.linalg.norm": (1, frozenset(("x", "axis", "keepdims"))),
    "numpy.linalg.matrix_norm": (1, frozenset(("x", "keepdims"))),
    # var(x[:, None], axis=-1, mean=w[None]) is every squared distance x - w: a GEMM by |x|^2 + |w|^2 - |x - w|^2
    # (round 57, di02); its own mean, a dtype and the degrees of freedom weigh nothing
    **dict.fromkeys(("numpy.var", "numpy.std", "numpy.nanvar", "numpy.nanstd"),
                    (3, frozenset(("a", "axis", "dtype", "ddof", "keepdims", "correction")))),
    # torch's trapezoids as numpy's (round 57, di01, di05): a grid x makes each a dot product; a step dx is uniform
    **dict.fromkeys(("torch.trapezoid", "torch.trapz", "torch.cumulative_trapezoid"),
                    (1, frozenset(("y", "dim", "dx")))),
}  # fmt: skip
#: samplers that multiply by a factor of a matrix they are given: ``multivariate_normal`` is ``mean + z @ L.T``, and a
#: Generator subclass whose ``standard_normal`` hands back the data makes it a GEMM in LAPACK and BLAS (red-team round
#: 58, dl01); a name, a method or a getattr of these is a product
PRODUCT_SAMPLERS = frozenset(("multivariate_normal",))
#: ndarray methods whose keyword turns them into a product, as :data:`_UNWEIGHTED`'s functions (torch's tensors have
#: no such keyword: a call of one with it is numpy's)
WEIGHTING_KEYWORDS = {"var": "mean", "std": "mean", "nanvar": "mean", "nanstd": "mean"}
PLAIN_CALL_ONLY = frozenset(_UNWEIGHTED)


def _an_exception(rest: list[str]) -> bool:
    """Whether ``numpy.<rest>`` is an exception class: raising or catching one computes nothing."""
    value = lookup(".".join(("numpy", *rest)))[1]
    return isinstance(value, type) and issubclass(value, BaseException)


def unlisted_routine(*names: str, products: bool = False, plain_call: bool = False) -> str | None:
    """Why a name (dotted, as the kernel's source resolves it, and its canonical form, ``guard.names.lookup``) is
    outside the allow-list of numpy, ``math`` and ``statistics`` names, or None where each form is in it or is no
    name of theirs (``numpy.testing.<module>.np.dot`` is ``numpy.dot`` by its canonical form). ``products``: numpy's
    GEMMs are a part of the op (the family's parts hold torch's); ``plain_call``: the name is called where it is
    named, with only arguments that weigh nothing (:data:`PLAIN_CALL_ONLY`)."""
    if not products and not plain_call and (found := next((n for n in names if n in PLAIN_CALL_ONLY), None)):
        return (f"uses {found} with more than its data (and an axis): with weights, a grid or an order that is an "
                "SVD it is a dot product")
    return next((why for name in dict.fromkeys(names) if (why := _unlisted(name, products))), None)


def _unlisted(name: str, products: bool) -> str | None:
    top, *rest = name.split(".")
    if not rest:
        return None
    if top == "numpy":
        if _numpy_allows(rest, products):
            return None
        return (f"uses {name}, a numpy routine outside the ones a kernel of a library-op family may use "
                "(elementwise ufuncs and their reductions, creating, reshaping, indexing, sorting, plain reductions, "
                "tables): numpy's other routines run whole products, convolutions and transforms in C or BLAS")
    if top == "torch" and (module := _torch_outside(name)):
        return (f"uses {name}, from {module}, a module of torch's outside the ones a kernel of a library-op family "
                "may use (torch's functions and tensors, nn, autograd, cuda, fft, linalg, special, library, "
                "compiler...): its Python code can do the family's whole op out of the rules' sight")
    if products and f"{top}.{rest[0]}" in _STDLIB_PRODUCTS:
        return None
    if top == "math" and rest[0] not in _MATH:
        return f"uses {name}, a math function outside the elementwise ones (math.dist and math.sumprod are products)"
    if top == "statistics" and rest[0] not in _STATISTICS:
        return (f"uses {name}, a statistics function outside the plain averages and spreads (a weighted mean or a "
                "covariance is a dot product)")
    return None


#: calls that call their first argument on elements, two at a time at most: a ufunc handed to one is elementwise
#: (``functools.reduce(np.logaddexp, rows)``, an honest self-check's fold: round 34, az FV-9)
_ELEMENTWISE_FOLDS = ("functools.reduce", "builtins.map", "itertools.accumulate", "itertools.starmap")


def call_sites(nodes: Iterable[ast.AST], resolve: Callable[[ast.AST], str | None]) -> tuple[set[int], ...]:
    """The ids of the nodes called where they are named, of those called on one positional argument and no keyword
    or with only the arguments :data:`PLAIN_CALL_ONLY` lets weigh nothing, and of those handed to an elementwise fold (``corners.vendor_holder`` lets these be)."""
    calls = [n for n in nodes if isinstance(n, ast.Call)]
    plain = {id(c.func) for c in calls if len(c.args) == 1 and not c.keywords and not isinstance(c.args[0], ast.Starred)}
    # the data and an axis, where a name's other arguments would weigh it (a mean along an axis, round 52)
    plain |= {id(c.func) for c in calls if (rule := _UNWEIGHTED.get(resolve(c.func) or "")) and len(c.args) <= rule[0]
              and not any(isinstance(a, ast.Starred) for a in c.args)
              and all(k.arg in rule[1] for k in c.keywords)}  # fmt: skip
    plain |= {id(c.args[0]) for c in calls if len(c.args) == 2 and not c.keywords and resolve(c.func) == "builtins.map"
              and not isinstance(c.args[1], ast.Starred)}  # map(statistics.fmean, rows): one argument a call (bb FV-5)
    folded = {id(c.args[0]) for c in calls if c.args and resolve(c.func) in _ELEMENTWISE_FOLDS}
    return {id(c.func) for c in calls}, plain, folded
