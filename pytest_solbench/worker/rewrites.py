"""The one rewrite ``torch.compile`` may not make of a kernel's code in its process: Inductor's attention pattern
(``torch._inductor.fx_passes.fuse_attention``, on by default) finds attention written out as ``softmax(q k^T) v``
and replaces it with torch's fused attention, the library op. A kernel that writes attention out and compiles it
would then be timed as the library's flash attention, and judged ``vendor-op`` for an op it never named (red-team
round 26, attack-aj FV-1: cross-attention, encoder attention, a compiled forward's backward).

Only that rewrite is off: every other pattern Inductor applies stays, so a compiled kernel runs as its author's
model runs it. The module is patched as it is imported (``sys.meta_path``), never imported here: most kernels never
compile, and importing Inductor's passes costs 1.5 s. A kernel that removes the hook gains nothing: the library op
the rewrite puts in is recorded and judged as any other (``guard.dispatched``)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Sequence

#: Inductor's module of attention patterns, and the function that registers them when a compile first needs them
PATTERNS_MODULE = "torch._inductor.fx_passes.fuse_attention"


def keep_attention_written_out() -> None:
    """From now on in this process, Inductor registers no attention pattern (idempotent)."""
    loaded = sys.modules.get(PATTERNS_MODULE)
    if loaded is not None:
        _no_patterns(loaded)
    elif not any(isinstance(finder, _Patched) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Patched())


def _registers_nothing(*args: Any, **kwargs: Any) -> None:
    """Inductor's ``_sfdp_init``, which would register the attention patterns."""


def _no_patterns(module: ModuleType) -> None:
    module._sfdp_init = _registers_nothing  # type: ignore[attr-defined]  # read by name at each compile's first pass


class _Patched(importlib.abc.MetaPathFinder):
    """Finds Inductor's attention patterns as the path finders would, and patches the module once it has run."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != PATTERNS_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _no_patterns(module)
