"""y08 (red-team round 21): y04 with no allowance, through TorchScript's inter-op pool. A ``@torch.jit.script``
function returns ``[torch.jit.fork(_task, ...)]``: inside TorchScript the fork runs the task on ATen's pool thread,
where a ``@torch.jit.ignore`` Python helper waited until the judge's record had stopped and wrote a vendor GEMM into
the output within the tripwires' grace. ``torch.jit.fork`` was in no rule; it is ``threads`` now (and the record spans
the grace: ``hack_r21_vendor_in_grace_allowed``)."""

from typing import List

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "threads"
LAYER = "static"
CAUGHT_BY = "threads rule (guard.tables: torch.jit.fork)"


@torch.jit.ignore
def _helper(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> None:
    out.copy_(torch.nn.functional.rms_norm(x, (x.shape[-1],), w, 1e-5))


@torch.jit.script
def _task(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    _helper(x, w, out)
    return out


@torch.jit.script
def _start(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> List[torch.jit.Future[torch.Tensor]]:
    return [torch.jit.fork(_task, x, w, out)]  # HACK


_KEEP = []


def run(hidden_states, weight, output):
    _KEEP[:] = _start(hidden_states, weight, output)
