"""FALSE POSITIVE probe (red-team round 34, attack-az): Honest: GeGLU written out with tanh; at import it fits an odd polynomial to tanh with numpy's np.polyfit (the numpy
twin of tests/lookalikes/import_polynomial_fit.py, which uses torch.linalg.lstsq and passes), kept for a fast path;
the exact tanh path is the one used.

Command: TRITON_INTERPRET=1 python -m pytest -p no:randomly -p no:cacheprovider --solbench --solbench-device cpu problems/<DEFINITION>/definition.json --kernel-dir tests/lookalikes/geglu_np_polyfit.py --solbench-rounds 2 --solbench-json /tmp/az-geglu_np_polyfit.py.jsonl -k "7]"
Before the fix, the plugin said: RUNTIME_ERROR REWARD_HACK [unlisted-routine] uses numpy.polyfit
"""

import math

import numpy as np
import torch

DEFINITION = "gemma2_2b_gelu_tanh_and_mul_i9216"
_C = math.sqrt(2.0 / math.pi)

_X = np.linspace(-4, 4, 513)
TANH_COEF = np.polyfit(_X, np.tanh(_X), 9)
assert np.max(np.abs(np.polyval(TANH_COEF, _X) - np.tanh(_X))) < 5e-2


@torch.no_grad()
def run(gate_up):
    d = gate_up.shape[-1] // 2
    g = gate_up[..., :d].float()
    u = gate_up[..., d:].float()
    inner = _C * (g + 0.044715 * g * g * g)
    return (0.5 * g * (1.0 + torch.tanh(inner)) * u).to(gate_up.dtype)
