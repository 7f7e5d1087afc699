"""Red-team round 1 (judge). Trick: poke the judge through the reply pipe. The kernel's process writes an extra,
well-formed frame (multiprocessing Connection framing: 4-byte big-endian length + JSON) onto its reply fd (argv[1],
readable in /proc/self/cmdline) during a correctness call, answering the call before the harness does. Replies carry no
request id, so every later reply is shifted by one. Attacks: the reply channel (worker/pool.py _reply)."""
import json
import os
import pathlib
import struct

import torch

DEFINITION = "llama3_1_8b_rmsnorm_h4096"
EXPECTED = "reply-schema"
LAYER = "judge"
CAUGHT_BY = "each request carries a nonce its reply must echo; the injected frame carries none"
_DONE = []


def run(hidden_states, weight, output):
    x = hidden_states.float()
    output.copy_((x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight.float()).to(output.dtype))
    if not _DONE:
        _DONE.append(1)
        fd = int(pathlib.Path("/proc/self/cmdline").read_text().split("\0")[-2])
        answer = {"calls": [{"outputs": None, "trip": None, "kernel_names": None}], "ops": None}
        body = json.dumps({"ok": answer}).encode()
        os.write(fd, struct.pack("!i", len(body)) + body)
