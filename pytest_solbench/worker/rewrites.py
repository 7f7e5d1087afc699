"""The one rewrite ``torch.compile`` may not make of a kernel's code in its process: Inductor's attention pattern
(``torch._inductor.fx_passes.fuse_attention``, on by default) finds attention written out as ``softmax(q k^T) v``
and replaces it with torch's fused attention, the library op. A kernel that writes attention out and compiles it
would then be timed as the library's flash attention, and judged ``vendor-op`` for an op it never named (red-team
round 26, attack-aj FV-1: cross-attention, encoder attention, a compiled forward's backward).

Only that rewrite is off: every other pattern Inductor applies stays, so a compiled kernel runs as its author's
model runs it. The module is patched as it is imported (``sys.meta_path``), never imported here: most kernels never
compile, and importing Inductor's passes costs 1.5 s. A kernel that removes the hook gains nothing: the library op
the rewrite puts in is recorded and judged as any other (``guard.dispatched``).

And the GEMMs and convolutions Inductor compiles stay torch's library calls (``max_autotune_gemm_backends`` and
``max_autotune_conv_backends`` are ``ATEN``): its templates (a C++ GEMM on the CPU, a Triton one on the GPU) do a
library op's whole work in generated code that dispatches no operator, so a GEMM compiled where nothing was recorded
(in a finalizer after a call, while the judge timed) ran unseen in every later call (red-team round 27, ak02). The
options that would choose templates again are ``patching`` statically (``guard.reflection``).

The same holds for TorchScript's oneDNN Graph fuser (LLGA), which runs a traced linear or convolution as a library
partition (``LlgaPartition_0``) with no operator in the record (red-team round 28, am02, am03): it stays off. What
is set here is held, not only set: ``undone`` says, after every call, which of it the kernel's code changed (a
config key built from two strings, round 28, am01), and the harness fails the call ``patching``.

TorchScript's graphs are not edited by hand either: a node added to a scripted function's graph (``graph.create(
"prim::mkldnn_convolution", ...)``, an op registered only with TorchScript's interpreter) runs its C++ body with no
dispatcher and no record, a whole convolution or GEMM (red-team round 34, ax01, ax02). The IR's editing methods
(:data:`GRAPH_EDITS`) refuse in a kernel's process; only ``torch.onnx`` calls them from Python, and a call to one,
caught or not, fails the call ``patching``."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Sequence

#: Inductor's module of attention patterns, and the function that registers them when a compile first needs them
PATTERNS_MODULE = "torch._inductor.fx_passes.fuse_attention"
#: Inductor's configuration, and what it is set to in a kernel's process
CONFIG_MODULE = "torch._inductor.config"
LIBRARY_CALLS = {"max_autotune_gemm_backends": "ATEN", "max_autotune_conv_backends": "ATEN",
                 # C++ wrapper code calls torch's kernels through AOTInductor's shims, below the dispatcher: a
                 # compiled GEMM then dispatches no operator (red-team round 29, ao03)
                 "cpp_wrapper": False}


#: TorchScript's IR classes (``torch._C``) and their methods that edit a graph
GRAPH_EDITS = {
    "Graph": ("addInput", "eraseInput", "eraseOutput", "registerOutput", "permuteInputs", "create", "createFusionGroup",
              "createCudaFusionGroup", "createClone", "appendNode", "prependNode", "setInsertPoint", "insertGraph",
              "insert", "makeMultiOutputIntoTuple", "insertConstant", "insertNode", "insert_point_guard"),
    "Node": ("addInput", "replaceInput", "replaceInputWith", "replaceAllUsesWith", "insertBefore", "insertAfter",
             "moveAfter", "moveBefore", "removeInput", "removeAllInputs", "destroy", "eraseOutput", "addOutput",
             "addBlock", "copyAttributes", "copyMetadata", "removeAttribute", "f_", "fs_", "c_", "s_", "ss_", "i_",
             "is_", "g_", "gs_", "ival_", "t_", "ts_", "z_", "ty_", "tys_", "zs_"),
    "Value": ("setType", "inferTypeFrom", "replaceAllUsesWith", "replaceAllUsesAfterNodeWith", "setTypeAs",
              "copyMetadata", "setDebugName"),
    "Block": ("addNode", "addInputToBlock", "registerOutput"),
}  # fmt: skip
_EDITS_HELD: dict[tuple[str, str], Any] = {}  # (class, method) -> the refusal put in its place
_EDITED: list[str] = []  # the edits a kernel's code tried


def keep_attention_written_out() -> None:
    """From now on in this process, Inductor registers no attention pattern and compiles GEMMs and convolutions to
    torch's library calls, and TorchScript's oneDNN Graph fuser is off (idempotent)."""
    for name, patch in _PATCHES.items():
        loaded = sys.modules.get(name)
        if loaded is not None:
            patch(loaded)
    if not any(isinstance(finder, _Patched) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Patched())
    torch = sys.modules.get("torch")
    if torch is not None:
        torch._C._jit_set_llga_enabled(False)
        _refuse_graph_edits(torch)
        _hold_llga_off(torch)
        _refuse_loaders(torch)


def undone() -> str | None:
    """What of ``keep_attention_written_out``'s settings no longer holds in this process, in words, or None."""
    torch = sys.modules.get("torch")
    if torch is not None and torch._C._jit_llga_enabled():
        return "TorchScript's oneDNN Graph fuser was switched on: it runs a traced GEMM or convolution as a library's"
    if _EDITED:
        return (f"the kernel's code edited a TorchScript graph by hand, switched its oneDNN Graph fuser on or loaded "
                f"compiled code ({_EDITED[0]}): what that runs goes below the dispatcher, where no record sees it")  # fmt: skip
    if torch is not None and _LLGA_HELD and torch._C._jit_set_llga_enabled is not _LLGA_HELD[0]:
        return "TorchScript's oneDNN Graph switch was put back: a traced GEMM runs as a library partition"
    if torch is not None and any(vars(getattr(torch._C, owner)).get(name) is not refusal
                                 for (owner, name), refusal in _EDITS_HELD.items()):  # fmt: skip
        return "TorchScript's graph-editing methods were put back: a node added by hand runs below the dispatcher"
    if torch is not None and any(vars(torch.compiler).get(name) is not refusal for name, refusal in _LOADERS_HELD.items()):
        return "torch.compiler's loaders of compiled code were put back: what they load dispatches no operator"
    config = sys.modules.get(CONFIG_MODULE)
    changed = [k for k, v in LIBRARY_CALLS.items() if config is not None and getattr(config, k, v) != v]
    if changed:
        return (f"Inductor's {changed[0]} was set back from {LIBRARY_CALLS[changed[0]]!r}: its templates and C++ "
                "wrapper do a GEMM or convolution in generated code that dispatches no operator")
    compiling = sys.modules.get(COMPILE_MODULE)
    if compiling is not None and _HELD and getattr(compiling, "compile_fx", None) is not _HELD[-1]:
        return "Inductor's compile entry was replaced: it compiles with torch's library calls for GEMMs in this process"
    patterns = sys.modules.get(PATTERNS_MODULE)
    if patterns is not None and getattr(patterns, "_sfdp_init", None) is not _registers_nothing:
        return "Inductor's attention rewrite was switched back on: it puts torch's fused attention in the kernel's place"
    return None


def _refuse_graph_edits(torch: ModuleType) -> None:
    """Each of :data:`GRAPH_EDITS` that this torch has replaced by a refusal (idempotent)."""
    for owner, names in GRAPH_EDITS.items():
        cls = getattr(torch._C, owner, None)
        for name in names if cls is not None else ():
            if name in vars(cls) and (owner, name) not in _EDITS_HELD:
                _EDITS_HELD[owner, name] = refusal = _refusal(f"torch._C.{owner}.{name}")
                setattr(cls, name, refusal)


_LLGA_HELD: list[Any] = []  # the switch put in place of torch._C._jit_set_llga_enabled


def _hold_llga_off(torch: ModuleType) -> None:
    """TorchScript's oneDNN Graph switch refuses to turn the fuser on (``torch.jit.fuser("fuser3")`` calls it): a
    traced GEMM then runs as ``LlgaPartition_0`` with no ``aten::mm`` in the record after its first, profiled run
    (red-team round 35, ba03). Turning it off, as the fuser's context does on its way out, still works."""
    if _LLGA_HELD:
        return
    inner = torch._C._jit_set_llga_enabled

    def set_llga_enabled(enabled: bool) -> None:
        if enabled:
            _EDITED.append("torch._C._jit_set_llga_enabled(True)")
            raise RuntimeError("TorchScript's oneDNN Graph fuser stays off in a kernel's process: it runs a traced GEMM "
                               "or convolution as a library partition, below the record of operators")  # fmt: skip
        inner(False)

    torch._C._jit_set_llga_enabled = set_llga_enabled
    _LLGA_HELD.append(set_llga_enabled)


#: torch.compiler's loaders of code compiled elsewhere: a softmax compiled outside the kernel and loaded from bytes
#: ran no trace in its process and dispatched no operator (red-team round 44, bv06, bv07); the static rules name them
#: (``runtime-load``), and here they refuse whatever name reached them
LOADERS = ("load_compiled_function", "load_cache_artifacts")
_LOADERS_HELD: dict[str, Any] = {}


def _refuse_loaders(torch: ModuleType) -> None:
    for name in LOADERS:
        if name in vars(torch.compiler) and name not in _LOADERS_HELD:
            _LOADERS_HELD[name] = refusal = _refusal(f"torch.compiler.{name}", "loading code compiled elsewhere is "
                                                     "refused in a kernel's process (it dispatches no operator)")
            setattr(torch.compiler, name, refusal)


def _refusal(what: str, why: str = "editing a TorchScript graph by hand is refused in a kernel's process (an added "
                                   "node runs its op below the dispatcher's record)") -> Any:
    def refused(*args: Any, **kwargs: Any) -> Any:
        _EDITED.append(what)
        raise RuntimeError(f"{what}: {why}")

    refused.__qualname__ = refused.__name__ = what.rsplit(".", 1)[-1]
    return refused


def _registers_nothing(*args: Any, **kwargs: Any) -> None:
    """Inductor's ``_sfdp_init``, which would register the attention patterns."""


def _no_patterns(module: ModuleType) -> None:
    module._sfdp_init = _registers_nothing  # type: ignore[attr-defined]  # read by name at each compile's first pass


def _library_calls(module: ModuleType) -> None:
    for option, value in LIBRARY_CALLS.items():
        setattr(module, option, value)


def _held_at_compile(module: ModuleType) -> None:
    """Inductor's entry (``compile_fx``, looked up by name by ``torch.compile`` and its own recursion) compiles with
    ``LIBRARY_CALLS`` in force whatever the caller set: a ``config.patch`` or ``options`` of the kernel's own around a
    compile, undone before any call ends, left nothing for ``undone`` to see (red-team round 30, aq01: a C++ wrapper
    compiled in a finalizer the automatic collector ran between two requests)."""
    inner = module.compile_fx
    if getattr(inner, "__wrapped__", None) is not None and inner.__name__ == _HELD_NAME:
        return
    config = sys.modules.get(CONFIG_MODULE) or __import__(CONFIG_MODULE, fromlist=["patch"])

    def compile_fx(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("config_patches"):  # the caller's options, applied inside around the compiler too: ours last
            kwargs["config_patches"] = {**kwargs["config_patches"], **LIBRARY_CALLS}
        with config.patch(LIBRARY_CALLS):
            return inner(*args, **kwargs)

    compile_fx.__wrapped__ = inner  # type: ignore[attr-defined]
    compile_fx.__qualname__ = compile_fx.__name__ = _HELD_NAME
    module.compile_fx = compile_fx
    _HELD.append(compile_fx)


_HELD_NAME = "compile_fx_with_library_calls"
_HELD: list[Any] = []  # the wrapper put in place, which ``undone`` holds there
COMPILE_MODULE = "torch._inductor.compile_fx"
_PATCHES = {PATTERNS_MODULE: _no_patterns, CONFIG_MODULE: _library_calls, COMPILE_MODULE: _held_at_compile}


class _Patched(importlib.abc.MetaPathFinder):
    """Finds the modules of ``_PATCHES`` as the path finders would, and patches each once it has run."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name not in _PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, _PATCHES[name])
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any, patch: Any) -> None:
        self.inner, self.patch = inner, patch

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        self.patch(sys.modules.get(module.__name__, module))  # a config module may stand itself in (ConfigModule)
