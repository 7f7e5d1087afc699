"""Which confinement measure stops CUDA in a kernel's process, and what in it the driver needs.

    python benchmarks/confine_probe.py [OUT_DIR]

The first GPU run of session 11 (H100, driver 580) found a confined kernel's process failing at its first CUDA call
(``cudaGetDeviceCount`` error 304, "OS call failed") with every measure in force, and with ``private-dev`` left out
too; with ``read-only-proc`` left out as well it worked. Each variant below is a child process that confines itself
as a kernel's does (``guard.confine.for_kernel(cuda=True)``), then initialises CUDA and adds on the GPU:

- ``off=<measures>``: ``SOLBENCH_CONFINE_OFF`` as given (every measure, then each of the two left out, then both);
- ``views=<paths>``: ``private-dev`` left out and ``read-only-proc`` over those views only (``/proc``, ``/sys``);
- ``exact=<paths>``: as ``views``, but only the view's own mount made read-only, none of the mounts under it.

Where a C compiler is found, every variant runs with a small ``LD_PRELOAD`` library that logs each open, mkdir or
unlink under /proc, /sys or /dev that fails, or that asks to write: what the driver touches there. Prints one JSON
line per variant; the logs go to OUT_DIR (default: the working directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())
from pytest_solbench.guard import confine
variant = sys.argv[1]
kind, _, value = variant.partition("=")
if kind in ("views", "exact"):
    os.environ[confine.OFF_ENV] = "private-dev"
    confine.VIEWS = tuple(p for p in value.split(":") if p)
if kind == "exact":
    def only_the_views(system):
        for point, options in system.mounts():
            if point in confine.VIEWS:
                confine._remount_read_only(system, point, options)
    confine._read_only_views = only_the_views
if kind == "off":
    os.environ[confine.OFF_ENV] = value
os.environ[confine.ENV_ON] = "1"
result = confine.for_kernel(cuda=True)
row = {"variant": variant, "in_force": list(result.in_force), "error": None}
try:
    import torch
    torch.cuda.init()
    x = torch.ones(1024, device="cuda")
    x.add_(1)
    torch.cuda.synchronize()
    row["cuda_ok"] = float(x.sum()) == 2048.0
except Exception as exc:
    row["cuda_ok"], row["error"] = False, f"{type(exc).__name__}: {str(exc)[:300]}"
print("PROBE " + json.dumps(row), flush=True)
"""

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int watched(const char *p) {
    return p && (!strncmp(p, "/proc", 5) || !strncmp(p, "/sys", 4) || !strncmp(p, "/dev", 4));
}
static void note(const char *what, const char *p, int flags, int rc, int err) {
    int writes = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
    if (watched(p) && (rc < 0 || writes))
        fprintf(stderr, "SHIM %s %s flags=0x%x rc=%d errno=%s\n", what, p, flags, rc, rc < 0 ? strerror(err) : "-");
}
#define OPENLIKE(name, ...)                                                            \
    int name(const char *p, int flags, ...) {                                          \
        static int (*real)(const char *, int, ...);                                    \
        if (!real) real = dlsym(RTLD_NEXT, #name);                                     \
        va_list ap; va_start(ap, flags); int mode = va_arg(ap, int); va_end(ap);       \
        int rc = real(p, flags, mode); int err = errno; note(#name, p, flags, rc, err); \
        errno = err; return rc; }
OPENLIKE(open)
OPENLIKE(open64)
#define OPENATLIKE(name)                                                                  \
    int name(int d, const char *p, int flags, ...) {                                      \
        static int (*real)(int, const char *, int, ...);                                  \
        if (!real) real = dlsym(RTLD_NEXT, #name);                                        \
        va_list ap; va_start(ap, flags); int mode = va_arg(ap, int); va_end(ap);          \
        int rc = real(d, p, flags, mode); int err = errno; note(#name, p, flags, rc, err); \
        errno = err; return rc; }
OPENATLIKE(openat)
OPENATLIKE(openat64)
FILE *fopen(const char *p, const char *m) {
    static FILE *(*real)(const char *, const char *);
    if (!real) real = dlsym(RTLD_NEXT, "fopen");
    FILE *f = real(p, m); int err = errno;
    note("fopen", p, strchr(m, 'w') || strchr(m, 'a') || strchr(m, '+') ? O_WRONLY : 0, f ? 0 : -1, err);
    errno = err; return f; }
FILE *fopen64(const char *p, const char *m) { return fopen(p, m); }
int mkdir(const char *p, mode_t mode) {
    static int (*real)(const char *, mode_t);
    if (!real) real = dlsym(RTLD_NEXT, "mkdir");
    int rc = real(p, mode); int err = errno; note("mkdir", p, O_CREAT, rc, err); errno = err; return rc; }
int unlink(const char *p) {
    static int (*real)(const char *);
    if (!real) real = dlsym(RTLD_NEXT, "unlink");
    int rc = real(p); int err = errno; note("unlink", p, O_WRONLY, rc, err); errno = err; return rc; }
"""

VARIANTS = ("off=", "off=read-only-proc", "off=private-dev", "off=read-only-proc,private-dev",
            "views=/proc", "views=/sys", "exact=/proc:/sys", "exact=/proc", "exact=/sys")  # fmt: skip


def _shim(folder: str) -> str | None:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        return None
    source, library = os.path.join(folder, "shim.c"), os.path.join(folder, "shim.so")
    with open(source, "w") as handle:
        handle.write(SHIM)
    built = subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"], capture_output=True,
                           text=True)  # fmt: skip
    return library if built.returncode == 0 else None


def main(argv: list[str]) -> int:
    out = argv[0] if argv else "."
    os.makedirs(out, exist_ok=True)
    library = _shim(tempfile.mkdtemp(prefix="confine-probe-"))
    print(json.dumps({"shim": library is not None}))
    for variant in VARIANTS:
        env = {k: v for k, v in os.environ.items() if k != "SOLBENCH_CONFINE_OFF"}
        if library:
            env["LD_PRELOAD"] = library
        try:
            child = subprocess.run([sys.executable, "-c", CHILD, variant], capture_output=True, text=True, timeout=90,
                                   env=env)  # fmt: skip
            text = child.stdout + child.stderr
        except subprocess.TimeoutExpired as exc:
            text = f"timed out\n{exc.stdout or ''}{exc.stderr or ''}"
        name = variant.replace("=", "_").replace("/", "").replace(":", "+").replace(",", "+") or "all"
        with open(os.path.join(out, f"confine_{name}.log"), "w") as handle:
            handle.write(text)
        rows = [line[6:] for line in text.splitlines() if line.startswith("PROBE ")]
        shim = sorted({line for line in text.splitlines() if line.startswith("SHIM ")})
        row = json.loads(rows[-1]) if rows else {"variant": variant, "cuda_ok": False, "error": text[-400:]}
        row["shim_lines"] = len(shim)
        row["shim_failed"] = [line for line in shim if "rc=-1" in line][:12]
        row["shim_writes"] = [line for line in shim if "rc=-1" not in line and " /dev/" not in line][:12]
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
