"""The allow-list of dispatched operators (``guard.operators``), judged in the judge (``guard.dispatched.finding``,
``judge.kernel.Kernel.judge_ops``): the library ops rounds 18 to 22 found doing a whole op fail even where no family
names them, the ops honest kernels dispatch pass, and a record the kernel's process stopped, kept back, could not start
or flooded fails."""

from __future__ import annotations

import pytest

from pytest_solbench.guard import dispatched, operators
from pytest_solbench.guard.families import VENDOR_FAMILIES, family_parts

#: What the bundled examples, look-alikes and torch-written kernels dispatch on torch 2.11 and 2.13, and the other
#: forms torch names the same ops by (in place, a view's copy, an alias, a list version, ``special_``).
HONEST = ["empty", "empty_like", "empty_strided", "zeros", "full", "arange", "view", "reshape", "_unsafe_view",
          "expand", "as_strided", "permute", "transpose", "contiguous", "clone", "copy_", "_to_copy", "to", "t",
          "add", "add_", "mul", "sub", "div", "floor_divide", "divide", "rsqrt", "exp", "pow", "abs_", "neg",
          "sigmoid", "tanh", "where", "masked_fill_", "clamp", "clamp_min", "sum", "mean", "amax", "max", "var",
          "linalg_vector_norm", "cumsum", "topk", "sort", "index", "index_put_", "index_select", "gather",
          "scatter_add_", "cat", "stack", "split", "chunk", "unbind", "repeat_interleave", "outer", "cos", "sin",
          "_local_scalar_dense", "item", "is_nonzero", "fill_", "zero_", "lift_fresh", "detach", "alias",
          "expand_copy", "_foreach_add_", "special_erf", "__iand__", "randn", "resolve_conj", "select", "slice",
          "unsqueeze", "squeeze", "flatten", "narrow", "embedding", "constant_pad_nd", "matmul", "linear"]

#: op type -> the aten ops, none of them named by its family, that did (or a part of) its whole op in rounds 18 to 22.
WHOLE = {
    "gemm": ["mm", "bmm", "addmm", "baddbmm", "_cdist_forward", "_euclidean_dist", "_pdist_forward", "dot", "mv",
             "convolution", "_convolution", "mkldnn_convolution", "embedding_bag", "_embedding_bag", "_trilinear",
             "_fft_r2c", "_fft_c2c", "_linalg_solve_ex", "_linalg_svd", "vdot", "addbmm"],
    "rmsnorm": ["native_layer_norm", "native_batch_norm", "_fused_rms_norm", "_weight_norm_interface", "mm",
                "_softmax", "_fft_r2c"],
    "softmax": ["_softmax", "_log_softmax", "_safe_softmax", "_masked_softmax", "mm"],
    "silu_and_mul": ["mm", "glu", "_softmax"],
    "gqa_paged": ["_scaled_dot_product_flash_attention_for_cpu", "_efficient_attention_forward", "_fft_r2c"],
}


@pytest.mark.parametrize("op", HONEST)
def test_the_ops_an_honest_kernel_dispatches_are_allowed(op: str) -> None:
    assert operators.allowed(op), op
    assert dispatched.finding([f"aten::{op}", "triton::anything", "mylib::my_kernel"], "silu_and_mul_backward") is None


@pytest.mark.parametrize(("op_type", "op"), [(t, op) for t, ops in WHOLE.items() for op in ops])
def test_library_ops_outside_the_list_are_vendor_ops_with_or_without_a_family(op_type: str, op: str) -> None:
    found = dispatched.finding(["aten::empty", f"aten::{op}"], op_type)
    assert found is not None and found[0] == "vendor-op" and f"aten::{op}" in found[1], (op_type, op, found)


def test_a_familys_parts_are_allowed_for_it_alone() -> None:
    """A GEMM and a softmax are parts of attention (torch_gqa_decode writes one so), not of an RMSNorm."""
    ops = ["aten::bmm", "aten::_softmax", "aten::einsum", "aten::_unsafe_view"]
    assert dispatched.finding(ops, "gqa_paged") is None
    assert dispatched.finding(ops, "moe_finalize") is None
    assert dispatched.finding(ops, "rmsnorm")[0] == "vendor-op"
    assert dispatched.finding(["aten::_scaled_dot_product_flash_attention_for_cpu"], "gqa_paged")[0] == "vendor-op"


def test_no_part_is_a_library_op_its_family_forbids() -> None:
    for family in VENDOR_FAMILIES:
        parts = family_parts(family.keywords[0])
        assert not dispatched.vendor_dispatches([f"aten::{p}" for p in parts], family.keywords[0]), family.label


def test_only_aten_is_judged_by_the_list() -> None:
    """A kernel's own custom ops and the profiler's ranges pass; torch's library namespaces stay the families'."""
    assert dispatched.finding(["mylib::rmsnorm", "Torch-Compiled Region", "prims::convert_element_type"],
                              "rmsnorm") is None  # fmt: skip
    assert dispatched.finding(["mkldnn::_linear_pointwise"], "gemm")[0] == "vendor-op"


def test_an_op_this_torch_does_not_register_is_not_allowed_by_tags() -> None:
    assert not operators.allowed("no_such_operator_anywhere")
    assert not operators.allowed("__class__") and not operators.allowed("name")


@pytest.mark.parametrize(("marker", "words"), [(dispatched.STOPPED, "stopped"), (dispatched.UNRECORDED, "could not start"),
                                               (dispatched.FLOODED, "more than")])  # fmt: skip
def test_a_record_stopped_unstarted_or_flooded_is_patching(marker: str, words: str) -> None:
    rule, message = dispatched.finding(["aten::empty", marker], "rmsnorm")
    assert rule == "patching" and words in message


def test_a_record_sent_whole_or_as_flooded() -> None:
    """Ranges of the kernel's own named like operators cannot push torch's out of what is sent."""
    assert dispatched.sent({"aten::mm", "a range", dispatched.STOPPED}) == sorted(["aten::mm", dispatched.STOPPED])
    flood = {f"aaa::{i}" for i in range(dispatched.MAX_SENT + 1)} | {"aten::mm"}
    assert dispatched.sent(flood) == [dispatched.FLOODED]


class _Request:
    def __init__(self, guard: bool = True, allowed: tuple[str, ...] = (), reference: bool = False) -> None:
        self.guard, self.allowed_rules, self.kernel = guard, allowed, {"is_reference": reference}


def _judge(request: _Request, ops: list[str] | None, op_type: str = "rmsnorm") -> str | None:
    from pytest_solbench.judge.kernel import Kernel, Verdict

    kernel = Kernel.__new__(Kernel)
    kernel.request = request
    try:
        kernel.judge_ops(ops, op_type)
    except Verdict as verdict:
        return verdict.outcome.log
    return None


def test_the_judge_judges_the_record_it_asked_for() -> None:
    assert "aten::mm" in _judge(_Request(), ["aten::mm"])
    assert "sent no record" in _judge(_Request(), None)  # asked for, kept back
    assert _judge(_Request(), ["aten::empty", "aten::add"]) is None
    assert _judge(_Request(guard=False), ["aten::mm"]) is None
    assert _judge(_Request(allowed=("vendor-op",)), ["aten::mm"]) is None
    assert _judge(_Request(reference=True), None) is None
    assert _judge(_Request(), None, "fp8_group_quant") is None  # no family: nothing asked for
