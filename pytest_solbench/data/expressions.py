"""One safe evaluator for the expressions problem files hold: expr axes, sol formulas and constraints.

An expression is parsed once into a tree of small closures; syntax outside the subset below is refused then,
whatever the values. The subset: numbers, strings, tuples and lists; names (axes, inputs); arithmetic and bitwise
operators; comparisons, chained; ``and``/``or``/``not``; ``a if c else b``; subscripts and slices; the tensor
metadata ``x.shape``, ``x.ndim``, ``x.dtype``; the methods ``numel size dim item sum max min all any abs``; and the pure
functions ``len min max abs all any sum int float bool round ceil floor cdiv``. Nothing else: no other attribute
(so no dunder), no other call, no comprehension, no assignment. Both peers' datasets use only this (FlashInfer-Trace:
``num_kv_indices == kv_indptr[-1].item()``, ``gemm1_weights.shape[1] == 2 * intermediate_size``).
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from typing import Any, Callable, Mapping

Evaluator = Callable[[Mapping[str, Any]], Any]


class ExpressionError(ValueError):
    """An expression that uses syntax outside the safe subset, or that cannot be evaluated; names the expression."""


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{f.__name__: f for f in (len, min, max, abs, all, any, sum, int, float, bool, round)},
    "ceil": math.ceil,
    "floor": math.floor,
    "cdiv": _cdiv,
}
ATTRIBUTES = frozenset({"shape", "ndim", "dtype"})
METHODS = frozenset({"numel", "size", "dim", "item", "sum", "max", "min", "all", "any", "abs"})

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_, ast.Invert: operator.invert}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}  # fmt: skip


def _parse(text: str) -> ast.expr:
    if not isinstance(text, str):
        raise ExpressionError(f"{text!r}: an expression must be a string")
    return ast.parse(text.strip(), mode="eval").body  # SyntaxError passes through, with its message


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Evaluator:
    """The expression as a function of its names; raises SyntaxError, or ExpressionError for syntax outside the subset.

    A name missing from the mapping raises ``KeyError(name)`` when evaluated (callers use it to tell an unknown
    axis from a broken expression)."""
    return _Builder(text).build(_parse(text))


def expression_names(text: str) -> set[str]:
    """The free names an expression reads (called functions are not names); raises SyntaxError only."""
    tree = _parse(text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def eval_expression(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate an expression over named values (axes, inputs) within the safe subset."""
    return compile_expression(text)(names)


def evaluate_constraint(text: str, names: Mapping[str, Any]) -> bool:
    """Whether a definition's constraint holds over axis values (and, in the worker, input tensors by name).

    Any failure is an ExpressionError naming the constraint: an unknown name, refused syntax, or an error while
    evaluating (a tensor of many elements where a truth value was needed, say)."""
    try:
        return bool(compile_expression(text)(names))
    except KeyError as exc:
        message = f"constraint {text!r} names {exc.args[0]!r}, which is neither an axis nor an input"
        raise ExpressionError(message) from None
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(f"constraint {text!r} could not be evaluated: {type(exc).__name__}: {exc}") from exc


class _Builder:
    """Turns a parsed expression into nested closures, refusing what is not in the subset."""

    def __init__(self, text: str) -> None:
        self.text = text

    def refuse(self, what: str) -> ExpressionError:
        return ExpressionError(f"{self.text!r}: {what} is not allowed in an expression")

    def build(self, node: ast.AST) -> Evaluator:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(type(node).__name__)
        return method(node)

    def _Constant(self, node: ast.Constant) -> Evaluator:
        if not isinstance(node.value, (int, float, str, type(None), type(...))):
            raise self.refuse(f"the constant {node.value!r}")
        value = node.value
        return lambda names: value

    def _Name(self, node: ast.Name) -> Evaluator:
        key = node.id
        return lambda names: names[key]

    def _Tuple(self, node: ast.Tuple | ast.List) -> Evaluator:
        parts = [self.build(e) for e in node.elts]
        return lambda names: tuple(p(names) for p in parts)

    _List = _Tuple

    def _BinOp(self, node: ast.BinOp) -> Evaluator:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self.refuse(f"the operator {type(node.op).__name__}")
        left, right = self.build(node.left), self.build(node.right)
        return lambda names: op(left(names), right(names))

    def _UnaryOp(self, node: ast.UnaryOp) -> Evaluator:
        op, operand = _UNARY[type(node.op)], self.build(node.operand)
        return lambda names: op(operand(names))

    def _BoolOp(self, node: ast.BoolOp) -> Evaluator:
        parts, is_and = [self.build(v) for v in node.values], isinstance(node.op, ast.And)

        def run(names: Mapping[str, Any]) -> Any:
            value = None
            for part in parts:
                value = part(names)
                if bool(value) != is_and:  # `and` stops at the first falsy value, `or` at the first truthy one
                    return value
            return value

        return run

    def _Compare(self, node: ast.Compare) -> Evaluator:
        ops = [_COMPARE[type(op)] for op in node.ops]
        first, rest = self.build(node.left), [self.build(c) for c in node.comparators]

        def run(names: Mapping[str, Any]) -> Any:
            left, result = first(names), True
            for op, part in zip(ops, rest):
                right = part(names)
                result = op(left, right)  # alone, the result as it is (a tensor stays one: `(x > 0).all()`)
                if len(ops) > 1 and not result:  # chained, Python's rule: stop at the first false link
                    return result
                left = right
            return result

        return run

    def _IfExp(self, node: ast.IfExp) -> Evaluator:
        test, body, orelse = self.build(node.test), self.build(node.body), self.build(node.orelse)
        return lambda names: body(names) if test(names) else orelse(names)

    def _Subscript(self, node: ast.Subscript) -> Evaluator:
        value, index = self.build(node.value), self.build(node.slice)
        return lambda names: value(names)[index(names)]

    def _Slice(self, node: ast.Slice) -> Evaluator:
        parts = [self.build(p) if p is not None else (lambda names: None) for p in (node.lower, node.upper, node.step)]
        return lambda names: slice(*(p(names) for p in parts))

    def _Attribute(self, node: ast.Attribute) -> Evaluator:
        if node.attr not in ATTRIBUTES:
            raise self.refuse(f"reading .{node.attr} (only {', '.join(sorted(ATTRIBUTES))})")
        value, attr = self.build(node.value), node.attr
        return lambda names: getattr(value(names), attr)

    def _Call(self, node: ast.Call) -> Evaluator:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.refuse("unpacking arguments")
        args = [self.build(a) for a in node.args]
        kwargs = {k.arg: self.build(k.value) for k in node.keywords}

        def arguments(names: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
            return [a(names) for a in args], {k: v(names) for k, v in kwargs.items()}

        if isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            function = FUNCTIONS[node.func.id]

            def call(names: Mapping[str, Any]) -> Any:
                positional, named = arguments(names)
                return function(*positional, **named)

            return call
        if isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
            owner, method = self.build(node.func.value), node.func.attr

            def call_method(names: Mapping[str, Any]) -> Any:
                positional, named = arguments(names)
                return getattr(owner(names), method)(*positional, **named)

            return call_method
        shown = ast.unparse(node.func)
        allowed = f"functions {', '.join(FUNCTIONS)}; tensor methods {', '.join(sorted(METHODS))}"
        raise self.refuse(f"calling {shown} (only the {allowed})")
