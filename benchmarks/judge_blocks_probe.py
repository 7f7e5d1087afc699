"""Which exchange pattern leaves the judge's shared CUDA blocks allocated after their exchange closed?

    python benchmarks/judge_blocks_probe.py [rounds]

Session 19 found the README job's judge holding up to 31 GiB of shared blocks (``worker.shm.Arena``) still allocated
after their exchanges, with IPC counts of 0 or -1 and no Python referrer. This replays the exchange with a spawned
child (no plugin, no kernel), round after round, under three patterns, and prints the judge's allocated and reserved
MiB after each round: ``released`` (the child lets go of the blocks before it answers), ``late`` (the child lets go at
its next request, after the judge closed the exchange and gave up the counts itself, as a kernel's process does), and
``kept-views`` (``late``, and the judge's own views outlive the close, as the judge's sets do). A pattern whose
allocated bytes grow by a round's size each round is the leak. Needs a GPU."""

from __future__ import annotations

import multiprocessing
import sys

BLOCK_BYTES = 64 << 20
BLOCKS = 8


def _child(conn) -> None:
    import torch

    from pytest_solbench.worker import shm

    held: list = []
    while True:
        message = conn.recv()
        if message is None:
            return
        pattern, descs = message
        held.clear()  # "late": the last round's blocks go only now
        tensors = [shm.attach(d, "cuda") for d in descs]
        for t in tensors:
            t.add_(1)
        torch.cuda.synchronize()
        if pattern != "released":
            held.extend(tensors)
        del tensors
        conn.send("done")


def main(rounds: int) -> None:
    import torch

    from pytest_solbench.worker.shm import Arena

    context = multiprocessing.get_context("spawn")
    for pattern in ("released", "late", "kept-views"):
        parent, child_end = context.Pipe()
        child = context.Process(target=_child, args=(child_end,))
        child.start()
        views: list = []
        line = []
        for _ in range(rounds):
            with Arena("cuda") as arena:
                made = [arena.empty((BLOCK_BYTES // 4,), torch.float32) for _ in range(BLOCKS)]
                for tensor, _desc in made:
                    tensor.zero_()
                torch.cuda.synchronize()
                parent.send((pattern, [desc for _tensor, desc in made]))
                parent.recv()
                if pattern == "kept-views":
                    views = [tensor for tensor, _desc in made]  # the last round's views outlive their close
                del made
            line.append(f"{torch.cuda.memory_allocated() / 2**20:.0f}/{torch.cuda.memory_reserved() / 2**20:.0f}")
        parent.send(None)
        child.join(30)
        del views
        torch.cuda.ipc_collect()
        print(f"{pattern:11s} allocated/reserved MiB after each round: {' '.join(line)}; after the child's exit and "
              f"ipc_collect: {torch.cuda.memory_allocated() / 2**20:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
