"""Honest (a false RUNTIME_ERROR of red-team round 14, h14 and h15): the helper module beside the kernel is imported
inside ``run`` (to keep the import cheap, or to break a cycle), and the helper package ``normlib`` holds its author's
checks (pytest, the vendor's op as the expected value), which the kernel never imports."""
from normlib.core import rms

DEFINITION = "llama3_1_8b_rmsnorm_h4096"


def run(hidden_states, weight):
    from lazy_import_helpers import scale

    return scale(hidden_states.float() / rms(hidden_states.float()), weight)
