"""Red-team round 18, u02: a solution's sources live in the private temp (written there after confinement) and its
package's __path__ finds any .py in that folder (no _BundleFinder for solutions). In its first call the kernel writes
`late.py` (a string that calls the vendor op, spelled so no rule reads a name) there through Triton's
`FileCacheManager(<absolute folder>).put(...)` (a compiler writing in the temp folder: excused by the audit), then
imports it with a relative import."""
import os

import triton.runtime.cache

SOLBENCH_ALLOW = {"runtime-load": "round 19 names Triton's cache manager statically; the test is of the run-time door"}

TEXT = "import torch.nn.functional as F\n\ndef compute(x, w):\n    return F.rms_norm(x.float(), (x.shape[-1],), w.float(), 1e-5).to(x.dtype)\n"
_DONE = []


def run(hidden_states, weight):
    if not _DONE:
        triton.runtime.cache.FileCacheManager(os.path.dirname(os.path.abspath(__file__))).put(TEXT, "late.py")
        _DONE.append(True)
    from . import late

    return late.compute(hidden_states, weight)
