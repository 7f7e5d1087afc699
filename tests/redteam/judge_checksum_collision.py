"""Red-team round 1 (judge). Trick: forge the input checksum, and with it the timed phase's expected output.

inputs.checksum (data/inputs.py:498) is LINEAR in the tensor's int32 words: (sum W_j, sum W_j * w_j) with public
weights w_j = (j+1)*2654435761 % 2147483629. So any edit of the inputs whose word deltas satisfy two integer linear
equations is invisible to `input-mutation`. And in the timed phase the judge computes the expected outputs from the
SHARED inputs after the kernel ran (judge/timed.py _check_sets -> _expected(reference, s.inputs)), so the kernel
chooses what the reference is held to.

This kernel: on a fresh input set (every correctness round) it computes RMSNorm honestly, then rewrites the input in
place: rows 0..n-2 become zeros and the last row absorbs the two checksum sums (finite, moderate bf16 values).
Every later call on that set (all timed calls but the first per set, the outside-clock batch) sees row 0 == 0 and
computes only the last row: the other output rows are the zeros `prepare` already wrote, which is exactly what the
reference gives for zero rows. Timed work: 1/n of the op. Attacks: input-mutation and timed-output."""
import math

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "input-mutation"
LAYER = "judge"
CAUGHT_BY = ("the judge compares inputs byte for byte with its private copy, and the timed sets' expected outputs come"
             " from that copy")
MOD, MUL = 2147483629, 2654435761


def _norm(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + 1e-5) * w.float()).to(x.dtype)


def _wt(j):
    return ((j + 1) * MUL) % MOD


def _solve_lo(lo, idx, r1, r2):
    """Exact integer correction of the low halves lo[k] (word index idx[k]): sum d = r1, sum d*w = r2."""
    m = len(idx)
    ws = [_wt(j) for j in idx]
    mean = sum(ws) / m
    var = sum((v - mean) ** 2 for v in ws)
    a = r1 / m
    b = (r2 - r1 * mean) / var
    d = [round(a + b * (v - mean)) for v in ws]
    for k in range(m):
        lo[k] += d[k]
    r1 -= sum(d)
    r2 -= sum(dk * v for dk, v in zip(d, ws))
    lo[0] += r1  # plain sum exact now
    r2 -= r1 * ws[0]
    # pairs (a, b) of words whose weights differ by g: +t at a, -t at b moves r2 by t*g and the plain sum by 0.
    # w_j is a linear congruential sequence, so the gaps between sorted neighbours take a few values only.
    order = sorted(range(1, m), key=lambda k: ws[k])
    groups = {}
    for i in range(0, len(order) - 1, 2):
        groups.setdefault(ws[order[i + 1]] - ws[order[i]], []).append((order[i + 1], order[i]))
    ranked = sorted(groups, key=lambda g: -len(groups[g]))
    for g1 in ranked:
        for g2 in ranked:
            if g1 != g2 and math.gcd(g1, g2) == 1:
                t1 = (r2 * pow(g1, -1, g2)) % g2
                if t1 > g2 // 2:
                    t1 -= g2
                t2 = (r2 - t1 * g1) // g2
                for t, g in ((t1, g1), (t2, g2)):
                    pairs = groups[g]
                    share, extra = divmod(abs(t), len(pairs))
                    sign = 1 if t >= 0 else -1
                    for k, (pa, pb) in enumerate(pairs):
                        step = sign * (share + (1 if k < extra else 0))
                        lo[pa] += step
                        lo[pb] -= step
                return
    raise RuntimeError("no coprime gaps")


def _mutate(x):
    n, h = x.shape
    words = x.reshape(-1).view(torch.int32).tolist()
    per = h // 2
    keep = _keep(n)
    zone = range(0, (n - keep) * per)
    q = list(range((n - keep) * per, n * per))
    A = sum(words[j] for j in zone)
    B = sum(words[j] * _wt(j) for j in zone)
    TA = A + sum(words[j] for j in q)
    TB = B + sum(words[j] * _wt(j) for j in q)
    # high halves: alternate + and - moderate bf16, then a least-squares shift to hit the sums
    hi = [11392 if k % 2 == 0 else -21376 for k in range(len(q))]
    lo = [11392] * len(q)
    ws = [_wt(j) for j in q]
    r1 = TA - sum(hi[k] * 65536 + lo[k] for k in range(len(q)))
    r2 = TB - sum((hi[k] * 65536 + lo[k]) * ws[k] for k in range(len(q)))
    mean = sum(ws) / len(q)
    var = sum((v - mean) ** 2 for v in ws)
    a, b = r1 / len(q) / 65536, (r2 - r1 * mean) / var / 65536
    for k in range(len(q)):
        hi[k] += round(a + b * (ws[k] - mean))
    r1 = TA - sum(hi[k] * 65536 + lo[k] for k in range(len(q)))
    r2 = TB - sum((hi[k] * 65536 + lo[k]) * ws[k] for k in range(len(q)))
    _solve_lo(lo, q, r1, r2)
    for k in range(len(q)):
        assert 0 <= lo[k] < 65536 and -32768 <= hi[k] < 32768, (k, lo[k], hi[k], min(hi), max(hi), min(lo), max(lo))
    new = [0] * ((n - keep) * per) + [hi[k] * 65536 + lo[k] for k in range(len(q))]
    x.reshape(-1).view(torch.int32).copy_(torch.tensor(new, dtype=torch.int32))


def _keep(n):
    return max(1, (n + 7) // 8)


def run(hidden_states, weight, output):
    n = hidden_states.shape[0]
    if n >= 2 and bool((hidden_states[0] == 0).all()):  # a set we already rewrote: ~1/8 of the rows
        k = _keep(n)
        output[n - k :].copy_(_norm(hidden_states[n - k :], weight))
        return
    output.copy_(_norm(hidden_states, weight))
    if n >= 2:
        _mutate(hidden_states)
