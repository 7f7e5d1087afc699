"""What Kineto says of each GPU activity beyond its name, on this torch: the ``metadata_json`` of kernels (grid,
block), copies and fills (bytes), for the same kernel launched on a full and on a one-program grid. Red-team round
64 (ee01, modelled) replayed a cached result through the same Triton kernel on a grid of one program: the kernel
sets compare names only. Needs a GPU.

    python benchmarks/kineto_metadata_probe.py
"""

from __future__ import annotations

import json


def main() -> None:
    import torch
    import triton
    import triton.language as tl
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    @triton.jit
    def _scale(x, y, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y + offs, tl.load(x + offs, mask=offs < n) * 2, mask=offs < n)

    x = torch.randn(1 << 20, device="cuda")
    y = torch.empty_like(x)
    _scale[(x.numel() // 1024,)](x, y, x.numel(), BLOCK=1024)  # compile outside the profile
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        _scale[(x.numel() // 1024,)](x, y, x.numel(), BLOCK=1024)
        _scale[(1,)](x, y, x.numel(), BLOCK=1024)
        y.copy_(x)
        z = x.clone()
        y.zero_()
        torch.mm(x[:4096].view(64, 64), x[4096:8192].view(64, 64))
        torch.cuda.synchronize()
    for event in prof.profiler.kineto_results.events():
        if event.device_type() != DeviceType.CUDA:
            continue
        meta = event.metadata_json() if hasattr(event, "metadata_json") else "<no metadata_json>"
        try:
            text = meta if meta.lstrip().startswith("{") else "{" + meta + "}"  # Kineto writes the fields bare
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        print(repr(event.name())[:80], "| raw:", meta[:400].replace("\n", " "), "| parsed keys:",
              sorted(parsed) if isinstance(parsed, dict) else parsed)
    del z


if __name__ == "__main__":
    main()
