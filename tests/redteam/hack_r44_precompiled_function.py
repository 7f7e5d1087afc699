"""Red-team round 44, bv06 and bv07 (attack-bv): a softmax or an RMSNorm compiled outside the kernel
(``torch.compile(...).aot_compile``, serialized) and held in the kernel as a bytes literal, loaded with
``torch.compiler.load_compiled_function``: the load runs no trace, and the loaded C++ code dispatches no operator, so
the record saw nothing and the static rules saw no library name (the op is named only inside the bytes). PASSED
under strict on CPU (the artifacts, 40 KB and 330 KB, are not kept here). Now torch's loaders of compiled code are
``runtime-load``, and in the kernel's process they refuse whatever name reached them (``worker.rewrites``)."""
import io

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "runtime-load"
LAYER = "static"
CAUGHT_BY = "guard.tables: torch.compiler.load_compiled_function is runtime-load"

_ARTIFACT = b"..."  # the serialized compiled function (elided)
_compiled = torch.compiler.load_compiled_function(io.BytesIO(_ARTIFACT))  # HACK


def run(hidden_states, weight, output):
    output.copy_(_compiled(hidden_states, weight))
