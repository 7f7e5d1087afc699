"""Red-team round 1 (judge). Trick: predictable inputs. The run's seed defaults to 0 and every input is a pure function
of (seed, workload uuid, round) (worker/rounds.py round_seed, data/inputs.py _stream_seed/_random). At import (never
timed, never checked) this module regenerates every input the judge will ever make for every workload of the definition
-- correctness rounds 0..9 and timed sets TIMED_ROUND+0..7 -- and computes their outputs. Each call then only looks the
answer up by a few input values and copies it: no call computes RMSNorm. On the GPU every call launches the same single
copy kernel (kernel set unchanged), so CUPTI no-kernel / kernel-set-changed stay quiet, and the timed work is a copy of
the output (~ the op's own byte count, so it sits at the physical floor). Attacks: the judge's input freshness
(threat-model s3 'fresh values') and the value-cache limitation claimed GPU-caught."""
import zlib

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "RUNTIME_ERROR"
LAYER = "judge"
CAUGHT_BY = "the default seed is drawn from secrets and timed sets mix in a judge secret: the table misses (KeyError)"
WORKLOADS = [("85c91da2-148c-4315-bceb-6cbca5b23d9b", 1), ("d6fe7d10-1ea0-4a16-88bc-a947278ac705", 7),
             ("0ac4d3f8-3862-44c8-ab94-b7bea39d1e09", 64)]
TABLE = {}


def _round_seed(seed, uuid, r):
    return (seed * 1_000_003 + zlib.crc32(uuid.encode()) + r * 7919) % (2**31)


def _draw(seed, name, shape, device):
    gen = torch.Generator(device=device).manual_seed((seed * 0x9E3779B1 + zlib.crc32(name.encode())) % (2**63))
    with torch.device(device):
        x = torch.randn(shape, generator=gen)
        picks = torch.rand(shape, generator=gen) < 1 / 256  # the random rule's outliers (data.inputs._with_outliers)
        return torch.where(picks, x * 16.0, x).to(torch.bfloat16)


def _slow_reference(x, w):  # done once per predicted input set, at import
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)


def _key(x):
    return (tuple(x.shape), tuple(x.reshape(-1)[:8].float().tolist()))


def _build(device):
    for uuid, n in WORKLOADS:
        for r in list(range(10)) + [10_000 + k for k in range(8)]:
            seed = _round_seed(0, uuid, r)
            x = _draw(seed, "hidden_states", (n, 4096), device)
            w = _draw(seed, "weight", (4096,), device)
            TABLE[_key(x)] = _slow_reference(x, w)


_build("cuda" if torch.cuda.is_available() else "cpu")


def run(hidden_states, weight, output):
    output.copy_(TABLE[_key(hidden_states)])  # KeyError = the judge used a seed we did not predict
