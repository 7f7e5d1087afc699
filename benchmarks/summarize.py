"""One line per item of a ``--solbench-json`` file: what a GPU run's log would show, compact enough for a tail.

    python benchmarks/summarize.py run.jsonl
"""

from __future__ import annotations

import json
import sys


def _ms(value: object) -> str:
    return f"{value * 1000:.1f}us" if isinstance(value, (int, float)) else "-"


def main(path: str) -> None:
    counts: dict[str, int] = {}
    for line in open(path):
        item = json.loads(line)
        sb = item["solbench"]
        status = sb["status"]
        counts[status] = counts.get(status, 0) + 1
        axes = ",".join(f"{k}={v}" for k, v in item["workload"]["axes"].items())
        t_k = sb.get("t_k_ms") or (sb.get("kernel_timing") or {}).get("median_ms")
        score = "-" if sb.get("score") is None else f"{sb['score']:.3f}"
        pct = "-" if sb.get("pct_sol") is None else f"{100 * sb['pct_sol']:.0f}%"
        why = "" if status == "PASSED" else f" [{sb.get('rule') or ''}] {((item.get('evaluation') or {}).get('log') or '')[:150]!r}"
        print(f"{item['solution'][:28]:28} {axes[:40]:40} {status:11} T_k {_ms(t_k):>9} T_sol {_ms(sb['t_sol_ms']):>9} "
              f"{pct:>6} score {score}{why}")
    print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main(sys.argv[1])
