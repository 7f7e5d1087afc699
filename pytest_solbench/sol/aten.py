"""What one dispatched aten call reads and writes, as the dispatch modes see it: the tensors in an argument tree, and
those its schema says it writes in place. Shared by the FLOP counter (``flops``), the touched-bytes finder
(``touched``) and capture (``captures.recorder``); torch is imported on first use."""

from __future__ import annotations

from typing import Any


def tensors(tree: Any) -> list:
    """The tensors in a tree of arguments or results, in order."""
    import torch
    from torch.utils._pytree import tree_flatten

    return [t for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]


def mutated(func: Any, args: tuple, kwargs: dict) -> list:
    """The tensors ``func`` writes in place (its schema's ``Tensor(a!)`` arguments)."""
    found = []
    for i, arg in enumerate(func._schema.arguments):
        if arg.alias_info is not None and arg.alias_info.is_write:
            found += tensors(args[i] if i < len(args) else kwargs.get(arg.name))
    return found
