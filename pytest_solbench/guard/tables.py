"""The name tables behind :mod:`pytest_solbench.guard.rules`: which dotted names, methods and C++ identifiers fire which rule.

Kept apart from the rule engine so that a new trick is one line here. Python names are matched as dotted prefixes
after aliases are resolved (``threading`` matches ``threading.Thread``); C++ entries are regular expressions over
code whose comments and strings are blanked.
"""

from __future__ import annotations

from pytest_solbench.guard import families

# The vendor families (which library calls do a whole op, per op type) live in guard.families (red-team round 21);
# the rules and the run-time record still read them here.
Family, VENDOR_FAMILIES = families.Family, families.VENDOR_FAMILIES
vendor_families, vendor_names = families.vendor_families, families.vendor_names

# Module (or name) prefixes that fire wherever they are imported or used.
MODULE_RULES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("threading", "_thread", "concurrent.futures", "multiprocessing", "subprocess", "asyncio",
                     "torch.multiprocessing", "torch.utils.data.DataLoader", "torch.utils.data.dataloader", "os.fork", "os.forkpty", "os.system", "os.popen", "os.spawnl",
                     "os.spawnle", "os.spawnlp", "os.spawnv", "os.spawnve", "os.spawnvp", "os.posix_spawn",
                     "os.posix_spawnp", "os.execv", "os.execve", "os.execl", "os.execvp", "os.kill", "pty",
                     "os.spawnlpe", "os.spawnvpe", "os.execle", "os.execlp", "os.execlpe", "os.execvpe", "os.killpg",
                     "os.register_at_fork", "os.pidfd_open", "_posixsubprocess", "_winapi",
                     "logging.handlers.QueueListener", "logging.handlers.QueueHandler",
                     # torch's own module-level pool and the cache that feeds it (red-team round 8, j01s)
                     "torch.utils._functools._prefetch_executor", "torch.utils._functools.prefetchable_cache",
                     # a checkpoint writer's pool, reached with no threading import (round 9, k03s)
                     "torch.distributed.checkpoint._async_thread_executor",
                     "torch._inductor.autotune_process.PrecompileThreadPool",  # a compiler's pool, a kernel's tool (round 10)
                     # a thread that holds the interpreter keeps the harness from answering (round 8, j01)
                     "sys.setswitchinterval",
                     # TorchScript's fork: the task runs on ATen's inter-op pool (round 21, y08)
                     "torch.jit.fork", "torch.jit._fork", "torch.jit._async", "torch._C.fork",
                     "numpy.testing.run_threaded"),  # numpy's test helper starts threads (red-team round 34, ay)
                    ("threads", "threads and processes can keep working after the timer stops")),
    **dict.fromkeys(("socket", "urllib", "http", "requests", "httpx", "aiohttp", "ftplib", "smtplib", "shutil",
                     "tempfile", "pickle", "marshal", "shelve", "dbm", "sqlite3", "mmap", "io.open", "os.open",
                     "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "os.rename", "os.replace", "os.makedirs",
                     "os.mkdir", "os.chmod", "os.putenv", "os.unsetenv", "os.write", "os.truncate",
                     "builtins.open", "torch.save", "torch.load", "numpy.save", "numpy.savez", "numpy.load",
                     "numpy.fromfile", "safetensors", "webbrowser", "_pickle", "io.FileIO", "_io",
                     "torch.serialization", "os.fdopen", "os.pipe", "numpy.savetxt", "numpy.loadtxt",
                     "numpy.genfromtxt", "numpy.fromregex", "numpy.DataSource", "numpy.lib.npyio",
                     "numpy.lib._npyio_impl", "numpy.lib._datasource", "torch.hub.download_url_to_file",
                     "logging.FileHandler", "logging.handlers", "logging.basicConfig"),
                    ("file-network-os", "a kernel has no business with files, the network or the OS")),
    **dict.fromkeys(("cffi", "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline",
                     "torch.ops.load_library", "torch.classes.load_library", "importlib.util.spec_from_file_location",
                     "importlib.util.module_from_spec", "importlib.machinery", "importlib.reload", "runpy", "imp",
                     "zipimport", "builtins.exec", "builtins.eval", "builtins.compile", "base64", "codecs.decode",
                     "zlib.decompress", "cupy.RawModule", "cupy.RawKernel", "cuda.bindings.driver.cuModuleLoad",
                     "sys.path", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache", "pkgutil", "pydoc",
                     "doctest", "timeit", "code", "codeop", "cProfile", "profile", "pdb", "trace", "logging.config",
                     "typing.get_type_hints", "typing.ForwardRef", "typing._eval_type", "typing.evaluate_forward_ref",
                     "types.FunctionType", "types.CodeType", "torch.hub", "torch.package", "torch.jit.load",
                     "torch.jit.save", "torch._C.import_ir_module", "torch.export.load",
                     "torch._C.import_ir_module_from_buffer", "torch._C.parse_ir",  # TorchScript from bytes (round 18)
                     # code built from strings or graphs and run (red-team round 14, q04, q08, p10)
                     "torch.fx", "sympy", "torch.jit.CompilationUnit", "torch._C.CompilationUnit",
                     "torch.utils.benchmark",
                     # evaluators of strings (rounds 15, 16: r07, s04); the compilers' own: COMPILER_INTERNALS
                     "torch.jit.annotations", "torch.jit.frontend", "torch._jit_internal", "torch._sources",
                     "numpy.f2py",
                     # Triton's builder and cache manager: a native module planted in the cache under the key a
                     # build would use was imported without a compile (red-team round 19, w06); kernels use
                     # triton.jit, and Triton drives both itself
                     "triton.runtime.build", "triton.runtime.cache",
                     # numpy's and Triton's builders and loaders of a file's code (round 20, x08)
                     "numpy.distutils", "numpy.testing.extbuild", "numpy.ctypeslib", "triton.tools.compile",
                     # numpy's test helpers that exec a string (red-team round 34, ay03: caught only at run time)
                     "numpy.testing.runstring", "numpy.testing.measure",
                     # compiled artifacts loaded from bytes: a softmax compiled elsewhere ran no traced operator and
                     # dispatched none (red-team round 44, bv06, bv07); the loader also unpickles its input
                     "torch.compiler.load_compiled_function", "torch.compiler.save_compiled_function",
                     "torch.compiler.load_cache_artifacts", "torch.compiler.save_cache_artifacts",
                     "torch._dynamo.aot_compile", "torch._dynamo.package", "torch._dynamo.precompile_context",
                     "torch._inductor.aoti_load_package", "torch._inductor.aoti_compile_and_package",
                     "torch._inductor.package", "torch._inductor.codecache", "torch._export.aot_load",
                     "torch.export.pt2_archive"),
                    ("runtime-load", "code loaded or built at run time escapes review")),
    # TorchScript's interpreter-only operators: called from Python they run their C++ body with no dispatcher and no
    # record (red-team round 31, as01, as02: prim::mkldnn_convolution did a whole GEMM and a depthwise conv)
    "torch.ops.prim": ("computed-name", "TorchScript's interpreter-only operators run below torch's dispatcher, where "
                       "the operator record does not see them"),
    **dict.fromkeys(("sys._getframe", "sys._current_frames", "inspect.stack", "inspect.currentframe",
                     "inspect.getouterframes", "inspect.getframeinfo", "inspect.trace", "traceback.extract_stack",
                     "traceback.walk_stack", "traceback.format_stack", "traceback.print_stack",
                     "traceback.StackSummary", "traceback.FrameSummary", "traceback.TracebackException",
                     "numpy.distutils.misc_util.get_frame", "builtins.globals", "builtins.vars", "builtins.locals",
                     "weakref.getweakrefs",
                     "sys.exc_info", "sys.exception", "sys.last_traceback", "logging.currentframe"),
                    ("introspection", "it can read the harness's frames and objects, the expected output among them")),
    # Named rules: each a trick of its own, so that an allowance names exactly what it lets through.
    **dict.fromkeys(("torch.from_file", "torch.UntypedStorage.from_file", "torch.TypedStorage.from_file",
                     "torch.Storage.from_file", "numpy.memmap", "numpy.lib.format.open_memmap"),
                    ("from-file", "a tensor mapped onto a file writes that file with no kernel frame on the stack")),
    **dict.fromkeys(("atexit",), ("atexit", "code run at exit runs after the checks, outside any kernel call")),
    **dict.fromkeys(("weakref.finalize", "weakref.ref", "weakref.WeakMethod"),
                    ("finalizer", "a finalizer callback runs later, with no kernel frame on the stack")),
    **dict.fromkeys(("signal", "_signal", "faulthandler.register", "faulthandler.dump_traceback_later"),
                    ("signal-handler", "a signal handler or timer interrupts the harness and runs code inside it")),
    **dict.fromkeys(("sys.settrace", "sys.setprofile", "threading.settrace", "threading.setprofile",
                     "threading.settrace_all_threads", "threading.setprofile_all_threads", "sys.monitoring",
                     "sys.call_tracing"),
                    ("trace-hook", "a trace or profile hook sees (and can change) every frame of the harness")),
    **dict.fromkeys(("sys.addaudithook", "sys.audit"), ("audit-hook", "an audit hook sees the harness's own events")),
    **dict.fromkeys(("gc.get_objects", "gc.get_referrers", "gc.get_referents", "gc.callbacks", "gc.garbage"),
                    ("gc-walk", "walking the garbage collector's objects reaches the reference's output")),
    **dict.fromkeys(("ctypes", "_ctypes"), ("ctypes", "ctypes reads and writes any memory and calls any native code")),
    **dict.fromkeys(("torch._C._construct_storage_from_data_pointer", "torch.UntypedStorage._new_shared_cuda",
                     "torch.UntypedStorage._new_with_weak_ptr", "torch.UntypedStorage._new_shared_filename_cpu",
                     "torch.UntypedStorage._new_shared_fd_cpu", "torch.UntypedStorage._new_using_fd_cpu",
                     "torch.UntypedStorage._new_using_filename_cpu", "torch.UntypedStorage._new_shared",
                     "torch.cuda.caching_allocator_alloc"),
                    ("ctypes", "a storage built on a raw address reads and writes any memory, as ctypes does")),
    **dict.fromkeys(("weakref.WeakKeyDictionary", "weakref.WeakValueDictionary", "hashlib", "cachetools",
                     "functools.lru_cache.cache_info"),
                    ("pointer-cache", "results kept per object or content can be replayed instead of computed")),
    # numpy's twin of torch.overrides.get_overridable_functions: every ufunc and array function handed out as
    # data, matmul and logaddexp among them, where no name rule follows (red-team round 34, ay01, ay04)
    **dict.fromkeys(("numpy.testing.overrides",),
                    ("computed-name", "it hands numpy's functions out as data, where no name rule follows")),
    **dict.fromkeys(("torch.library.get_kernel",),
                    ("computed-name", "it finds an op's kernel by a string, where no name rule follows (round 18)")),
    **dict.fromkeys(("string.Formatter",),
                    ("computed-name", "a format field path ('0.attr[key]') reaches attributes named by a string")),
    **dict.fromkeys(("unittest.mock", "sys.modules", "torch._dynamo.reset", "torch.overrides.TorchFunctionMode",
                     "enum.global_enum", "enum._simple_enum",  # write a module's globals (round 43, bs02, bs03)
                     "torch.utils._python_dispatch.TorchDispatchMode", "importlib.invalidate_caches",
                     "torch._C._push_on_torch_function_stack", "torch._C._push_on_torch_dispatch_stack",
                     "torch._C._set_torch_function_mode", "torch.utils._python_dispatch._push_mode",
                     "torch._C._dispatch_tls_set_dispatch_key_excluded",
                     "torch._C._dispatch_tls_set_dispatch_key_included",
                     "torch.library.fallthrough_kernel", "torch._library.custom_ops._maybe_get_opdef"),
                    ("patching", "it can change what the timer or the checker calls")),
    **dict.fromkeys(("torch.cuda.Stream", "torch.cuda.ExternalStream", "torch.cuda.stream", "torch.cuda.streams",
                     "torch.cuda.StreamContext", "torch.cuda.set_stream", "torch.Stream", "cupy.cuda.Stream",
                     "torch.cuda.get_stream_from_external", "triton.runtime.driver.active.set_current_stream",
                     "torch.get_device_module", "torch.accelerator.set_stream", "torch.accelerator.Stream"),
                    ("side-stream", "work on another stream can escape a timer of the current stream")),
    **dict.fromkeys(("torch.cuda.CUDAGraph", "torch.cuda.graph", "torch.cuda.graphs", "torch.cuda.graph_pool_handle",
                     "torch.cuda.make_graphed_callables", "triton.testing.do_bench_cudagraph"),
                    ("cuda-graph", "a replayed graph can skip the work or hide it from the timer")),
    # allowed, a profiler of the kernel's own still stops the judge's record (round 44, bx22): said before the run
    **dict.fromkeys(("torch.profiler", "torch.autograd.profiler"),
                    ("timing-flags", "a profiler of the kernel's own ends the judge's record of the operators a call "
                                     "dispatches, so the call fails as patching even where this rule is allowed: tune "
                                     "with triton.autotune")),
    **dict.fromkeys(("torch.cuda.profiler", "torch.cuda.Event",
                     "torch.cuda.set_sync_debug_mode", "cupti", "pynvml", "triton.testing", "torch.Event",
                     "torch.accelerator.Event"),
                    ("timing-flags", "a kernel does not time, profile or synchronize on the harness's behalf")),
}

#: Methods that write to or change the file system (pathlib's, numpy's ``tofile``): ``file-network-os`` on any object.
#: pathlib's ``open(mode="w")``, ``rename`` and ``replace`` (``str.replace`` too) are left to the run-time audit.
WRITE_METHODS = ("write_text", "write_bytes", "unlink", "rmdir", "touch", "tofile", "symlink_to", "chmod", "mkdir",
                 "hardlink_to", "link_to", "lchmod")  # fmt: skip


CPP_RULES: dict[str, tuple[str, str]] = {
    r"\b(?:cudaStreamCreate\w*|cuStreamCreate\w*|cudaStreamPerThread|CU_STREAM_PER_THREAD|getStreamFromPool|"
    r"getStreamFromExternal|cudaStreamNonBlocking)\b": ("side-stream", "work on another stream can escape the timer"),
    r"\b(?:cudaEventDisableTiming|CU_EVENT_DISABLE_TIMING|cudaDeviceSetLimit|cuCtxSetLimit|cudaProfilerStop|"
    r"cudaProfilerStart|cupti\w*|nvml\w*|cudaDeviceSetCacheConfig|cudaCtxResetPersistingL2Cache|"
    r"cudaStreamSetAttribute)\b": ("timing-flags", "changes how the device or its timers behave"),
    r"\b(?:cudaGraphLaunch|cudaGraphInstantiate\w*|cudaStreamBeginCapture\w*|cuGraphLaunch|cuGraphInstantiate\w*|"
    r"cuStreamBeginCapture\w*|CUDAGraph)\b": ("cuda-graph", "a replayed graph can skip the work"),
    r"\b(?:dlopen|dlsym|dlmopen|LoadLibrary\w*|cuModuleLoad|cuModuleLoadFatBinary|cuLibraryLoadFromFile|"
    r"PyImport_\w+|PyRun_\w+)\b|\bpy(?:bind11)?::module_?::import\b|\bpy::exec\b|\bpy::eval\b": (
        "runtime-load", "loads code at run time"),
    r"\b(?:fork|vfork|system|popen|execl|execlp|execle|execv|execvp|execve|posix_spawnp?|pthread_create)\s*\(|"
    r"\bstd::(?:thread|jthread|async)\b|#\s*include\s*<(?:thread|future|pthread\.h|spawn\.h)>": (
        "threads", "threads and processes can outlive the timed call"),
    r"\b(?:fopen|freopen|socket|unlink)\s*\(|\bstd::(?:ofstream|ifstream|fstream)\b|"
    r"(?<![\w.>:])(?:::)?(?:open|openat|creat|write|pwrite|pwritev|writev|sendfile|mkstemp|mmap)\s*\(|"
    r"#\s*include\s*<(?:fstream|fcntl\.h|sys/socket\.h|sys/mman\.h|filesystem)>": (
        "file-network-os", "a kernel has no business with files or the network"),
    r"#\s*include\s*<dlfcn\.h>": ("runtime-load", "dlfcn.h is for loading code at run time (dlopen, dlsym)"),
    r"(?<![\w.>:])(?:::)?(?:syscall|kill|killpg|tkill|tgkill|raise|pidfd_open|pidfd_send_signal|ptrace|"
    r"process_vm_readv|process_vm_writev)\s*\(|#\s*include\s*<(?:signal\.h|csignal|sys/syscall\.h|sys/ptrace\.h)>": (
        "threads", "signals and raw system calls reach other processes (the judge, the controller, a neighbour)"),
    r"\bstd::(?:unordered_)?map\s*<\s*(?:const\s+)?(?:(?:void|[\w:]+)\s*\*|u?intptr_t\b)": (
        "pointer-cache", "a map keyed by pointers can replay earlier results"),
}


# Dunder names a kernel may use: an allow-list, so that a dunder nobody thought of is a finding, not a way in.
#: ``x.__name__`` and the like: reading what a thing is called or documents, or calling the protocol a class defines.
DUNDER_ATTRIBUTES = frozenset(("__name__", "__qualname__", "__doc__", "__module__", "__file__", "__version__",
                               "__init__", "__post_init__", "__call__", "__enter__", "__exit__", "__len__",
                               "__iter__", "__next__", "__repr__", "__str__",
                               "__members__"))  # fmt: skip (an Enum's names, aliases too: round 21, z31)
#: Bare names: ``if __name__ == "__main__"``, ``__all__ = [...]``, a class's ``__slots__``.
DUNDER_NAMES = frozenset(("__name__", "__file__", "__doc__", "__all__", "__slots__", "__version__", "__author__",
                          "__debug__", "__qualname__", "__module__"))  # fmt: skip (not __annotations__: round 16, s03)
#: Methods a kernel's own classes may define (a finalizer, a custom attribute hook or pickling are not among them).
DUNDER_METHODS = frozenset(("__init__", "__post_init__", "__call__", "__repr__", "__str__", "__enter__", "__exit__",
                            "__len__", "__iter__", "__next__", "__getitem__", "__contains__", "__hash__", "__eq__",
                            "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__",
                            # the arithmetic and container protocols: an operator on the class's own objects
                            "__setitem__", "__delitem__", "__reversed__", "__neg__", "__pos__", "__abs__", "__invert__",
                            "__int__", "__float__", "__index__", "__round__", "__matmul__", "__rmatmul__",
                            "__imatmul__", "__divmod__", "__rdivmod__", "__complex__", "__trunc__", "__floor__",
                            "__ceil__", "__length_hint__", "__aenter__", "__aexit__", "__aiter__", "__anext__",
                            "__await__",
                            # hooks of the class's own making and copying (red-team round 21, z04 and the static
                            # scan): they run for the class's own objects and subclasses, never for torch's or
                            # the judge's; pickling (__reduce__...), a finalizer (__del__), the attribute hooks
                            # (__getattr__, __setattr__...) and isinstance hooks stay findings
                            "__init_subclass__", "__class_getitem__", "__new__", "__missing__", "__get__", "__set__",
                            "__delete__", "__set_name__", "__copy__", "__deepcopy__", "__format__",
                            # numpy's conversion of the class's own object (np.asarray(table)); its override hooks
                            # are numpy-hook (red-team round 50, cp FV7)
                            "__array__",
                            *(f"__{p}{op}__" for p in ("", "r", "i") for op in ("add", "sub", "mul", "truediv",
                                                                              "floordiv", "mod", "pow", "and",
                                                                              "or", "xor", "lshift", "rshift"))))  # fmt: skip
#: Attributes of frames, tracebacks, generators and coroutines: the way from an exception to the harness's locals.
#: Their code objects too (``gi_code``...): ``code.replace(co_names=...)`` renames any name the rules read and
#: ``type(f)(code, {})`` runs it (red-team round 18, v08); ``__code__`` is a dunder outside the allow-list.
FRAME_ATTRIBUTES = frozenset(("tb_frame", "tb_next", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
                              "gi_frame", "cr_frame", "ag_frame", "gi_yieldframe", "cr_await", "gi_code", "cr_code",
                              "ag_code", "ag_await", "gi_yieldfrom"))  # fmt: skip
#: An operator called below the dispatcher's record (``op.redispatch(keyset, ...)``, ``op._op_dk(key, ...)``, an
#: operator handle's boxed calls): the judge's record of what a call dispatched never holds it (red-team round 24,
#: af01 to af03, the op object itself found in a public registry by a string). No honest kernel calls these.
BELOW_RECORD_ATTRIBUTES = frozenset(("redispatch", "redispatch_boxed", "_op_dk", "call_boxed",
                                     "_dispatch_call_boxed", "callBoxed", "_call_boxed",
                                     # TorchScript's IR edits: a node added by hand to a scripted function's graph
                                     # (prim::mkldnn_convolution) runs with no dispatcher (round 34, ax01, ax02); the
                                     # kernel's process refuses them too (worker.rewrites.GRAPH_EDITS)
                                     "insertNode", "appendNode", "prependNode", "insertBefore", "insertAfter",
                                     "replaceInput", "replaceInputWith", "replaceAllUsesWith", "insertGraph",
                                     "createFusionGroup", "createClone", "replaceAllUsesAfterNodeWith", "moveBefore",
                                     "moveAfter", "setInsertPoint", "insertConstant", "registerOutput"))  # fmt: skip
#: Methods that write into another module's namespace by its name in a string: ``Enum._convert_`` puts members over
#: a module's globals (``torch.autograd.profiler._disable_profiler``, which the record's stop calls: red-team round
#: 43, bs03, bs04), as ``enum.global_enum`` does by the class's ``__module__``.
NAMESPACE_WRITERS = frozenset(("_convert_", "_convert", "global_enum", "_add_member_", "_simple_enum"))
#: Calls whose second argument names an attribute: a dunder named in a string is a dunder all the same.
ATTRIBUTE_CALLS = ("builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.hasattr",
                   "operator.attrgetter", "operator.methodcaller")  # fmt: skip
#: The compilers' internals: a kernel drives a compiler through its front doors (``torch.compile``, ``triton.jit``,
#: custom ops), and of these packages may name only the settings and marks below. Their other functions hold
#: evaluators and loaders of code a kernel could hand them (red-team rounds 15 to 17: PyCodeCache, ConstantSource,
#: start_kernel_compile, cache_on_self_and_args, _compile_and_exec_source): an allow-list, so the next one is no way in.
COMPILER_INTERNALS = ("torch._inductor", "torch._dynamo", "torch._functorch", "torch._higher_order_ops",
                      "torch._export", "torch.export", "torch._guards",
                      # Triton's interpreter, IR builders and compiler: the interpreter's builder runs a tl.dot as
                      # numpy's BLAS below torch's dispatcher, a whole GEMM or im2col conv with no name a rule knows
                      # (red-team round 35, ba01, ba02); kernels drive Triton through triton.jit
                      "triton.runtime.interpreter", "triton.language.semantic", "triton._C", "triton.compiler",
                      "triton.backends")  # fmt: skip
COMPILER_ALLOWED = ("torch._inductor.config", "torch._inductor.runtime.triton_helpers", "torch._dynamo.config",
                    "torch._dynamo.mark_dynamic", "torch._dynamo.maybe_mark_dynamic", "torch._dynamo.mark_static",
                    "torch._dynamo.allow_in_graph", "torch._dynamo.disable", "torch._dynamo.reset",
                    "torch._dynamo.is_compiling", "torch._dynamo.graph_break")  # fmt: skip
#: torch's private registries and bindings (red-team round 18, v01, v02, v04, v05): what finds an op by a string
#: (``torch._library.utils.lookup_op("aten::rms_norm")``, ``torch._C._jit_get_operation``) or hands torch's functions
#: out as data (``torch.overrides.get_overridable_functions()``), whose result no name rule can follow. An entry ending
#: in ``_`` is a prefix of the name as written (``torch._C._``: every private binding of ``torch._C``). Of these a
#: kernel may name only TORCH_PRIVATE_ALLOWED (the op namespaces, whose vendor ops are judged by name, a stream
#: getter, and the custom-op front doors): an allow-list, as for the compilers, so the next registry is no way in.
TORCH_PRIVATE = ("torch._C._", "torch._library", "torch._ops", "torch._decomp", "torch._refs", "torch._prims",
                 "torch.autograd._",  # its profiler switches: the judge's record stopped (round 20, x13)
                 "torch.jit._", "torch.jit.supported_ops", "torch.overrides.get_", "torch.overrides._",
                 # a public registry of torch's operators keyed by their names, and the dispatch keys to call one
                 # below the dispatcher's record (red-team rounds 24 and 25: af01, ag03)
                 "torch.utils.flop_counter", "torch._C.DispatchKey")  # fmt: skip
TORCH_PRIVATE_ALLOWED = ("torch._C._nn", "torch._C._VariableFunctions", "torch._C._VariableFunctionsClass",
                         "torch._C._linalg", "torch._C._fft", "torch._C._special", "torch._C._nested",
                         "torch._C._sparse", "torch._C._TensorBase", "torch._C._TensorMeta", "torch._C._LinAlgError",
                         "torch._C._cuda_getCurrentRawStream", "torch._C._cuda_getDevice",
                         "torch._library.triton.wrap_triton", "torch._library.triton.triton_op",
                         "torch._library.custom_ops.custom_op", "torch._library.custom_ops.CustomOpDef",
                         # pure helpers honest kernels use (red-team round 19, w01): trees, devices, dtypes, queries
                         "torch.utils._pytree", "torch._utils._get_device_index", "torch.cuda._utils._get_device_index",
                         "torch._prims_common.get_computation_dtype", "torch._prims_common.elementwise_dtypes",
                         "torch.utils._triton.has_triton", "torch._C._cuda_getDeviceCount",
                         "torch._C._cuda_getCurrentStream", "torch._C._get_tracing_state",
                         "torch._subclasses.fake_tensor.FakeTensor")  # fmt: skip
#: torch's private modules anywhere in a name (``torch._native``, ``torch.jit._recursive``, ``torch.testing._internal``)
#: are ``computed-name`` too, but these (torch's bindings, whose private names TORCH_PRIVATE judges, the Tensor class's
#: module) and the compilers' (COMPILER_INTERNALS, an allow-list of their own).
TORCH_PRIVATE_MODULES_ALLOWED = ("torch._C", "torch._VF", "torch._tensor", *COMPILER_INTERNALS)  # fmt: skip
#: torch.library's calls that register a kernel for an op named by its first argument: for torch's own namespaces
#: (aten, prims...) they replace what torch computes, the checks' ops too (``register_kernel("aten::rms_norm", "cpu",
#: f)`` made ``F.rms_norm`` return f's answer: red-team round 18, found while fixing v04); ``get_kernel`` looks an
#: op's kernel up by a string (MODULE_RULES, computed-name).
LIBRARY_CALLS = ("torch.library.Library", "torch.library.impl", "torch.library.register_kernel",
                 "torch.library.register_autograd", "torch.library.register_torch_dispatch",
                 "torch.library.register_autocast", "torch.library.register_vmap", "torch.library.register_fake",
                 "torch.library.impl_abstract", "torch.library.define",
                 "torch.library._scoped_library")  # a Library as a context manager (round 53, cx02)  # fmt: skip
#: Namespaces of torch's native bindings (round 18, v11): ``torch._C._nn.silu`` is what ``F.silu`` calls, another
#: object, so a binding is judged by its name as the torch-level name would be (namespace -> where that name lives;
#: a name there may carry the namespace as a prefix, ``torch._C._linalg.linalg_matmul``).
NATIVE_NAMESPACES = {"torch._C._nn": "torch.nn.functional", "torch._C._VariableFunctions": "torch",
                     "torch._C._VariableFunctionsClass": "torch", "torch._VF": "torch",
                     "torch._C._fft": "torch.fft", "torch._C._linalg": "torch.linalg",
                     "torch._C._special": "torch.special"}  # fmt: skip
#: The os names a kernel may use: paths, reading the environment, plain facts. Any other os name (os.writev,
#: os.dup2, os.environ.update...) is ``file-network-os``: an allow-list, so that a new os function is not a way in.
OS_ALLOWED = ("os.path", "os.environ.get", "os.getenv", "os.cpu_count", "os.sched_getaffinity", "os.process_cpu_count", "os.sep", "os.linesep", "os.pathsep",
              "os.curdir", "os.pardir", "os.extsep", "os.name", "os.fspath", "os.PathLike", "os.getpid")  # fmt: skip
#: Modules that other modules re-export (``typing.sys``, ``os.sys``, ``torch.os``): a rule's name reached through
#: one (``typing.sys.settrace``) fires as if named directly. Left out: names torch also uses (``torch.signal``).
REEXPORTED = frozenset(("sys", "gc", "ctypes", "_ctypes", "builtins", "importlib", "inspect", "os", "subprocess",
                        "threading", "_thread", "atexit", "weakref", "socket", "shutil", "traceback", "faulthandler",
                        "multiprocessing", "pickle", "marshal", "runpy", "mmap", "tempfile", "torch", "numpy",
                        "triton", "logging", "typing", "pkgutil", "pydoc", "doctest", "io", "_pickle",
                        "_posixsubprocess", "functools", "operator", "sympy"))  # fmt: skip
#: Settings a kernel may assign, as the preambles users copy do (red-team round 29, ap FV-1 to FV-3; any value, round 30):
#: cuDNN's algorithm search, the precision flags (``precision-downgrade`` where they allow less than fp32 in an
#: all-fp32 definition), einsum's path search, dynamo's recompile limits and Inductor's tuning knobs. What chooses
#: where a compiled GEMM runs (``max_autotune_gemm_backends``, oneDNN Graph, CUDA graphs) is not here: assigning
#: any other attribute of an imported module is ``patching`` (and ``worker.rewrites`` holds the backends at run
#: time whatever wrote them).
SETTABLE = frozenset(("torch.backends.cudnn.benchmark", "torch.backends.cudnn.deterministic",
                      "torch.backends.cudnn.benchmark_limit", "torch.backends.opt_einsum.enabled",
                      "torch.backends.opt_einsum.strategy", "torch._dynamo.config.cache_size_limit",
                      "torch._dynamo.config.recompile_limit", "torch._dynamo.config.accumulated_cache_size_limit",
                      "torch._dynamo.config.accumulated_recompile_limit", "torch._dynamo.config.automatic_dynamic_shapes",
                      "torch._dynamo.config.assume_static_by_default", "torch._dynamo.config.capture_scalar_outputs",
                      "torch._dynamo.config.capture_dynamic_output_shape_ops",
                      "torch._inductor.config.coordinate_descent_tuning",
                      "torch._inductor.config.coordinate_descent_check_all_directions",
                      "torch._inductor.config.epilogue_fusion", "torch._inductor.config.aggressive_fusion",
                      "torch._inductor.config.max_autotune_pointwise", "torch._inductor.config.fx_graph_cache",
                      "torch._inductor.config.triton.unique_kernel_names",
                      # round 30 (ar FV-3, FV-4): the preambles of PyTorch's generative-AI posts and diffusers' guide;
                      # max_autotune and CUDA graphs are what mode="max-autotune" and "reduce-overhead" set anyway
                      "torch._inductor.config.conv_1x1_as_mm", "torch._inductor.config.freezing",
                      "torch._dynamo.config.suppress_errors", "torch.backends.cudnn.enabled",
                      "torch._inductor.config.max_autotune", "torch._inductor.config.triton.cudagraphs",
                      # round 32 (av FV-2, FV-4): one compile thread, CUDA graph trees, torchao's preamble
                      "torch._inductor.config.compile_threads", "torch._inductor.config.triton.cudagraph_trees",
                      "torch._inductor.config.force_fuse_int_mm_with_mul", "torch._inductor.config.use_mixed_mm"))  # fmt: skip
#: Precision settings (``torch.backends...allow_tf32``, ``...fp32_precision``): settable where the definition is not
#: all fp32; there, any value but the precise one (False, "ieee") is ``precision-downgrade``.
PRECISION_SETTINGS = frozenset(("torch.backends.cuda.matmul.allow_tf32", "torch.backends.cudnn.allow_tf32",
                                "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction",
                                "torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction",
                                "torch.backends.fp32_precision", "torch.backends.cuda.matmul.fp32_precision",
                                "torch.backends.cudnn.fp32_precision", "torch.backends.cudnn.conv.fp32_precision",
                                "torch.backends.cudnn.rnn.fp32_precision", "torch.backends.mkldnn.fp32_precision",
                                "torch.backends.mkldnn.matmul.fp32_precision"))  # fmt: skip
#: Top-level modules a kernel may import without a written allowance (besides its own): the compute libraries and
#: the plain-computation corners of the standard library, ``logging`` (a logger is what honest libraries hold;
#: its files, handlers and config are named rules above), ``pathlib`` (reading a config beside the kernel,
#: round 18, h02: its writes are named methods in ``rules._check_call`` and audited at run time, it execs nothing)
#: and the parsers of such a config (``tomllib``, ``configparser``; round 29, ap FV-4; ``csv``, round 49, cm FV-3: its
#: writers write only to file objects, whose opening the rules and the audit judge). A module outside it (``pkgutil``,
#: ``doctest``, ``pydoc``...)
#: is ``unlisted-import`` unless a named rule already covers it: an allow-list, so that a module
#: nobody thought of is a finding, not a way in.
#: Modules of which a kernel may import a few names without an allowance (besides IMPORTABLE, whole): the module
#: itself (``import inspect``) and these names (red-team round 21: z02 asserted its entry point's signature, z07
#: read its package data with ``importlib.resources.files(__package__)``, z30 loaded its own helper by a constant
#: name, the README's idiom); any other name of theirs (``inspect.getmembers``, ``importlib.util``) is
#: ``unlisted-import`` where it is used. A name's own rule (introspection, runtime-load) fires as before.
IMPORTABLE_NAMES = {
    "inspect": ("inspect.signature", "inspect.Signature", "inspect.Parameter", "inspect.isclass",
                "inspect.isfunction", "inspect.ismethod", "inspect.isroutine", "inspect.iscoroutinefunction",
                "inspect.isgeneratorfunction", "inspect.isabstract", "inspect.cleandoc"),
    "importlib": ("importlib.import_module", "importlib.resources", "importlib.resources.files",
                  "importlib.resources.read_text", "importlib.resources.read_binary", "importlib.resources.open_text",
                  "importlib.resources.open_binary"),
    # a version guard for an API change (red-team round 29, ap FV-5). Not importlib.metadata (FV-6): it reads every
    # installed package's metadata at run time, which the file audit refuses; ``triton.__version__`` says the same.
    "packaging": ("packaging.version", "packaging.version.Version", "packaging.version.parse",
                  "packaging.version.InvalidVersion"),
}  # fmt: skip
IMPORTABLE = frozenset(("torch", "triton", "numpy", "math", "cmath", "functools", "itertools", "typing",
                        "typing_extensions", "dataclasses", "enum", "collections", "operator", "__future__", "abc",
                        "contextlib", "warnings", "os", "re", "struct", "copy", "numbers", "fractions", "decimal",
                        "random", "statistics", "bisect", "heapq", "array", "string", "sys", "types", "cuda", "cutlass", "tilelang",
                        "tvm_ffi", "cupy", "flashinfer", "logging", "json", "pathlib", "tomllib", "configparser",
                        "csv", "textwrap"))  # fmt: skip
