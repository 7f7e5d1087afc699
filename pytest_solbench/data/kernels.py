"""Kernels under ``--kernel-dir``: what one is (``KernelSpec``), what its language needs here, and loading it
inside a worker. Finding them, statically at collection, is ``data.discovery``.

Two forms:
- a FlashInfer Trace ``solution.json`` (any ``*.json`` with ``definition``, ``spec`` and ``sources``); a source
  whose ``content`` is empty is read from the file of that path beside the JSON, as SOL-ExecBench's CLI does;
- a plain Python module with a module-level ``DEFINITION = "<definition name>"`` and a ``run`` function.

Destination-passing style (outputs preallocated and passed last) or value-returning: a solution's
``destination_passing_style`` says, a Python function's signature tells.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from pytest_solbench.data.importing import BundleFinder, source_spec
from pytest_solbench.data.schema import Definition
from pytest_solbench.protocol import Status

PYTHON_LANGUAGES = {"python", "pytorch", "triton", "cute_dsl", "cutile", "cudnn_frontend", "tilelang"}
CUDA_LANGUAGES = {"cuda", "cuda_cpp", "cpp", "cutlass", "cudnn", "cublas"}
REFERENCE = "reference"  # the problem's own reference, marked by ``KernelSpec.is_reference``, never by this name
SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # a solution's name: one path component, in a materialized folder's name


class KernelError(Exception):
    """A kernel that cannot be loaded; ``status`` is COMPILE_ERROR or RUNTIME_ERROR."""

    def __init__(self, status: Status, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class KernelSpec:
    """A candidate implementation of one definition, as found on disk."""

    name: str
    definition: str
    path: Path  # the solution.json or the Python module
    language: str  # "python" for Python-hosted kernels (torch, triton...), "cuda" for C++/CUDA sources
    entry_file: str
    entry_symbol: str
    sources: tuple[tuple[str, str], ...] = ()  # (relative path, content) for solution files
    destination_passing: bool | None = None  # None: decided by the entry function's signature
    author: str = ""
    languages: tuple[str, ...] = ()  # as the solution names them (triton, cute_dsl, cutlass, ...)
    is_reference: bool = False  # the problem's own reference (``reference_kernel``); no user kernel sets it

    @property
    def needs_cuda(self) -> bool:
        return self.language == "cuda"

    def content_hash(self) -> str:
        digest = hashlib.sha1(f"{self.definition}|{self.language}|{self.entry_file}::{self.entry_symbol}".encode())
        for rel, content in self.sources:
            digest.update(f"\0{rel}\0{content}".encode())
        return digest.hexdigest()[:16]

    def to_payload(self) -> dict[str, Any]:
        return {
            "name": self.name, "definition": self.definition, "path": str(self.path), "language": self.language,
            "entry_file": self.entry_file, "entry_symbol": self.entry_symbol, "sources": [list(s) for s in self.sources],
            "destination_passing": self.destination_passing, "author": self.author, "languages": list(self.languages),
            "is_reference": self.is_reference,
        }  # fmt: skip

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> KernelSpec:
        return cls(**{**data, "path": Path(data["path"]), "sources": tuple(tuple(s) for s in data["sources"]),
                      "languages": tuple(data.get("languages") or ())})  # fmt: skip


#: Python-hosted languages -> (the module they import, what to install when it is missing).
TOOLCHAINS = {
    "triton": ("triton", "pip install triton"),
    "cute_dsl": ("cutlass", "the CuTe DSL: pip install nvidia-cutlass-dsl"),
    "cutile": ("cuda.tile", "cuTile Python: pip install cuda-tile"),
    "cudnn_frontend": ("cudnn", "the cuDNN frontend: pip install nvidia-cudnn-frontend"),
    "tilelang": ("tilelang", "TileLang: pip install tilelang"),
}


def cutlass_include() -> Path | None:
    """CUTLASS's include folder: $CUTLASS_PATH (or $CUTLASS_HOME)/include, or a system-wide install."""
    for root in (os.environ.get("CUTLASS_PATH"), os.environ.get("CUTLASS_HOME"), "/usr/local", "/usr"):
        if root and (Path(root) / "include" / "cutlass" / "cutlass.h").is_file():
            return Path(root) / "include"
    return None


def missing_toolchain(spec: KernelSpec, device_kind: str) -> str | None:
    """Why this kernel cannot be built or imported here, naming what to install; None when it can (looked up
    without importing anything)."""
    if spec.needs_cuda:
        if device_kind != "cuda":
            return f"{spec.name} is CUDA C++: it needs a GPU and nvcc"
        if shutil.which("nvcc") is None and not (Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin/nvcc").is_file():
            return f"{spec.name} is CUDA C++ and nvcc is not found: install the CUDA toolkit or set CUDA_HOME"
        if "cutlass" in spec.languages and cutlass_include() is None:
            return f"{spec.name} needs the CUTLASS headers: clone CUTLASS and set CUTLASS_PATH to it"
    for language in spec.languages:
        module, install = TOOLCHAINS.get(language, (None, ""))
        if module is None:
            continue
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"{spec.name} is written in {language}, whose module {module!r} is not installed: {install}"
    return None


def reference_kernel(definition: Definition) -> KernelSpec:
    """The definition's own reference, used as the kernel when no ``--kernel-dir`` is given."""
    return KernelSpec(REFERENCE, definition.name, definition.path, "python", "reference", "run", (), False,
                      is_reference=True)


# ---------------------------------------------------------------- loading (inside a worker)


def cache_dir() -> Path:
    """The plugin's own folder for what it writes in a worker; in a confined kernel's process, its private temp
    (``guard.confine`` sets ``SOLBENCH_CACHE_DIR`` there, before anything is written)."""
    root = Path(os.environ.get("SOLBENCH_CACHE_DIR") or Path.home() / ".cache" / "pytest-solbench")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _import_file(path: Path, module_name: str, package: Path | None = None, only: frozenset[str] | None = None,
                 texts: Mapping[str, str] | None = None) -> Any:
    """Import ``path`` with its folder on ``sys.path`` (flat imports of its neighbours work); with ``package``, as
    a module of that folder made a package named ``module_name`` (``from .helpers import f`` works too, as
    FlashInfer-Bench's Python builder imports a solution's entry point). With ``only``, just those files of the
    folder (``package``, else ``path``'s; relative paths) are found: what the static rules read (``guard.bundle``),
    each compiled from its text in ``texts`` and never from bytecode (``data.importing``, red-team round 18, u01);
    the finder stays for the life of the process, as a kernel may import a helper inside ``run`` (round 14, h14).
    With the whole folder on the path, a ``flint.py`` beside a kernel that imported only torch._dynamo was imported
    by sympy, which tries ``flint`` as an optional backend: code no rule had read registered the op the kernel
    called (round 12, n11)."""
    root = package if package is not None else path.parent
    texts = texts or {}
    if only is None:
        sys.path.insert(0, str(path.parent))
    else:
        sys.meta_path.insert(0, BundleFinder(root, only, texts, top=path.parent))
    try:
        if package is not None:
            _as_package(package, module_name, None if only is None else (texts.get("__init__.py"),))
            parts = list(path.relative_to(package).with_suffix("").parts)
            parts[-1] = re.sub(r"\W", "_", parts[-1])  # ``rms_v1.2.py`` loads under a name (round 14, h23)
            if len(parts) > 1:
                importlib.import_module(".".join([module_name, *parts[:-1]]))
            name = ".".join([module_name, *parts])
        else:
            name = module_name
        if only is None:
            spec = importlib.util.spec_from_file_location(name, path)
        else:
            spec = source_spec(name, path, texts.get(path.relative_to(root).as_posix()))
        if spec is None or spec.loader is None:
            raise KernelError(Status.COMPILE_ERROR, f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    except SyntaxError as exc:
        _forget(module_name)
        where = f"{exc.filename or path}:{exc.lineno}"
        raise KernelError(Status.COMPILE_ERROR, f"{where}: syntax error: {exc.msg}") from None
    except KernelError:
        raise
    except Exception as exc:
        _forget(module_name)
        raise KernelError(Status.COMPILE_ERROR, f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if only is None:
            sys.path.remove(str(path.parent))


def _forget(module_name: str) -> None:
    """A failed import leaves nothing under its name (nor under its package's)."""
    for name in [n for n in sys.modules if n == module_name or n.startswith(module_name + ".")]:
        del sys.modules[name]


def _as_package(folder: Path, name: str, source: tuple[str | None] | None = None) -> None:
    """``folder`` as the package ``name`` (its ``__init__.py`` run, where it has one); its subfolders and modules are
    then found by the import system through the package's ``__path__``. ``source``: (the text the rules read of its
    ``__init__.py``,) to compile it from that and never from bytecode; None: the standard loader."""
    if name in sys.modules:
        return
    init = folder / "__init__.py"
    if init.is_file() and source is not None:
        spec = source_spec(name, init, source[0], package=folder)
    elif init.is_file():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(module)


_REFERENCES: dict[tuple[str, str], dict[str, Any]] = {}


def reference_namespace(definition: Definition) -> dict[str, Any]:
    """The reference's module globals, executed once per process from its source as a fresh module.

    The module is registered in ``sys.modules``: torch.compile (``--solbench-baseline compile``) imports the module
    a function's globals name, and failed with ModuleNotFoundError on the H100 while it was a bare namespace.
    Every user (the worker's reference and custom inputs, FLOP counting) shares this one loader.
    """
    import types

    key = (str(definition.path), hashlib.sha1(definition.reference.encode()).hexdigest())
    if key not in _REFERENCES:
        name = f"solbench_reference_{definition.name}"
        module = types.ModuleType(name)
        module.__file__ = str(definition.path)
        filename = f"<reference of {definition.name}>"
        code = compile(definition.reference, filename, "exec")
        # A failure's traceback quotes the reference's line (no file holds it under that name: a FlashInfer Trace
        # reference is a string in its definition); it showed "<reference of x>:2 in run: " and nothing more.
        import linecache

        lines = definition.reference.splitlines(keepends=True)
        linecache.cache[filename] = (len(definition.reference), None, lines, filename)
        exec(code, module.__dict__)  # noqa: S102 - the reference is the problem author's code, like a test
        sys.modules[name] = module
        _REFERENCES[key] = module.__dict__
    return _REFERENCES[key]


def reference_function(definition: Definition) -> Callable[..., Any]:
    """The reference's ``run``."""
    return reference_namespace(definition)["run"]


def _materialize(spec: KernelSpec) -> Path:
    """Write a solution's sources to a folder of the plugin's cache named by its name and their hash; return it.
    The name is one path component (``SAFE_NAME``, checked again here) and no source path leaves the folder."""
    if not SAFE_NAME.fullmatch(spec.name):
        raise KernelError(Status.COMPILE_ERROR, f"{spec.path}: name: {spec.name!r} is not a plain file name")
    solutions = cache_dir().resolve() / "solutions"
    folder = solutions / f"{spec.name}-{spec.content_hash()}"
    if not (folder / ".complete").exists():
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, content in spec.sources:
            if tmp.resolve() not in (tmp / rel).resolve().parents:
                raise KernelError(Status.COMPILE_ERROR, f"{spec.path}: sources: {rel!r} leaves the solution's folder")
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(content)
        (tmp / ".complete").write_text("")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder


def source_folder(spec: KernelSpec) -> Path:
    """The folder a kernel's code runs from: a solution's materialized sources, or a module's own folder."""
    return _materialize(spec) if spec.sources else spec.path.parent


def _build_cuda(spec: KernelSpec, folder: Path) -> Any:
    from torch.utils import cpp_extension

    sources = [str(folder / rel) for rel, _ in spec.sources if Path(rel).suffix in {".cu", ".cpp", ".cc", ".cxx", ".c"}]
    build = folder / "build"
    build.mkdir(exist_ok=True)
    try:
        include = cutlass_include() if "cutlass" in spec.languages else None
        return cpp_extension.load(
            name=f"solbench_{spec.content_hash()}",
            sources=sources,
            build_directory=str(build),
            extra_cuda_cflags=["-O3", "--use_fast_math"],
            extra_include_paths=[str(include)] if include else None,
            verbose=False,
        )
    except Exception as exc:  # the compiler's own message is the useful part
        raise KernelError(Status.COMPILE_ERROR, f"building {spec.path} failed: {exc}") from exc


def load(spec: KernelSpec, definition: Definition, only: frozenset[str] | None = None,
         texts: Mapping[str, str] | None = None) -> tuple[Callable[..., Any], bool]:  # fmt: skip
    """Import or build a kernel; return its entry function and whether it is destination-passing. ``only``: the
    files of its folder (relative paths) a plain kernel may import (None: all there), ``texts`` what the rules read of
    them (each is compiled from that). A solution's Python modules are its listed sources alone, compiled from their
    text: its folder is the kernel user's to write, and a file written there at run time was imported (red-team round
    18, u02). A plain kernel whose folder is a package (an ``__init__.py``) is imported as a module of it, so its
    relative imports work (round 12, n05)."""
    if spec.is_reference:
        return reference_function(definition), False
    if spec.sources:
        folder = _materialize(spec)
        if spec.needs_cuda:
            module = _build_cuda(spec, folder)
        else:
            listed = frozenset(rel for rel, _ in spec.sources if rel.endswith(".py"))
            module = _import_file(folder / spec.entry_file, f"solbench_kernel_{spec.content_hash()}", package=folder,
                                  only=listed, texts=dict(spec.sources))  # fmt: skip
    else:
        package = spec.path.parent if (spec.path.parent / "__init__.py").is_file() else None
        name = f"solbench_kernel_{spec.name.replace('.', '_')}_{abs(hash(str(spec.path))):x}"
        module = _import_file(spec.path, name, package=package, only=only, texts=texts)
    fn = getattr(module, spec.entry_symbol, None)
    if not callable(fn):
        raise KernelError(Status.COMPILE_ERROR, f"{spec.path}: entry point {spec.entry_symbol!r} is missing or not callable")
    dps = spec.destination_passing
    if dps is None or not spec.sources:
        from pytest_solbench.data.entry_points import destination_passing

        dps = destination_passing(fn, definition, spec)
    return fn, dps
