"""``worker.rewrites``: in a kernel's process ``torch.compile`` keeps attention written out as the kernel wrote it,
where Inductor's pattern would put torch's fused attention (the library op) in its place (red-team round 26, aj
FV-1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMPILED_ATTENTION = """
import torch
from torch.profiler import ProfilerActivity, profile

if {hooked}:
    from pytest_solbench.worker.rewrites import keep_attention_written_out

    keep_attention_written_out()
    keep_attention_written_out()  # twice: one hook


def attention(q, k, v):
    return torch.softmax((q @ k.transpose(-1, -2)) * 0.125, -1) @ v


f = torch.compile(attention)
q = torch.randn(1, 2, 32, 64)
f(q, q, q)
with profile(activities=[ProfilerActivity.CPU]) as prof:
    out = f(q, q, q)
assert torch.allclose(out, attention(q, q, q), atol=1e-5)
print(sorted({{e.name for e in prof.events() if "attention" in e.name}}))
"""


@pytest.mark.parametrize("hooked", [True, False])
def test_compiled_attention_stays_the_kernels_own(hooked: bool, tmp_path) -> None:
    env_dir = str(tmp_path / "inductor")
    ran = subprocess.run([sys.executable, "-c", COMPILED_ATTENTION.format(hooked=hooked)], capture_output=True,
                         text=True, timeout=600, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": env_dir})
    assert ran.returncode == 0, ran.stderr[-3000:]
    fused = ran.stdout.strip().splitlines()[-1]
    if hooked:
        assert fused == "[]", ran.stdout
    else:  # the control: without the hook, Inductor's pattern puts the library's attention in
        assert "scaled_dot_product" in fused, ran.stdout


COMPILED_GEMM = """
import torch
from torch.profiler import ProfilerActivity, profile

from pytest_solbench.worker.rewrites import keep_attention_written_out

keep_attention_written_out()
import torch._inductor.config as config

print(config.max_autotune_gemm_backends, config.max_autotune_conv_backends)
f = torch.compile(lambda x: torch.linalg.matrix_power(x, 2), options={"max_autotune": True})
x = torch.randn(2, 128, 128)
f(x)
with profile(activities=[ProfilerActivity.CPU]) as prof:
    out = f(x)
assert torch.allclose(out, x @ x, atol=1e-3)
print(sorted({e.name for e in prof.events() if e.name in ("aten::bmm", "aten::mm")}))
"""


def test_compiled_gemms_are_torchs_library_calls_which_the_record_holds(tmp_path) -> None:
    """max-autotune's GEMM templates (a C++ one on the CPU) do the GEMM in generated code that dispatches nothing; in a
    kernel's process Inductor's GEMM and conv backends are torch's library calls (red-team round 27, ak02)."""
    ran = subprocess.run([sys.executable, "-c", COMPILED_GEMM], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")})
    assert ran.returncode == 0, ran.stderr[-3000:]
    backends, recorded = ran.stdout.strip().splitlines()[-2:]
    assert backends == "ATEN ATEN" and recorded == "['aten::bmm']", ran.stdout


PATCHED_AROUND_THE_COMPILE = """
import torch
from torch.profiler import ProfilerActivity, profile

if {hooked}:
    from pytest_solbench.worker.rewrites import keep_attention_written_out, undone

    keep_attention_written_out()
import torch._inductor.config as config

wrapper = "cpp_" + "wrapper"
with config.patch({{wrapper: True}}):
    f = torch.compile(lambda x, w: x.inner(w), dynamic=True, options={{wrapper: True}})
    x, w = torch.randn(16, 64), torch.randn(32, 64)
    f(x, w)
with profile(activities=[ProfilerActivity.CPU]) as prof:
    out = f(x, w)
assert torch.allclose(out, x @ w.T, atol=1e-3)
print(undone() if {hooked} else None)
print(sorted({{e.name for e in prof.events() if e.name in ("aten::mm", "aten::bmm", "aten::addmm")}}))
"""


@pytest.mark.parametrize("hooked", [True, False])
def test_a_compile_under_the_kernels_own_settings_still_makes_library_calls(hooked: bool, tmp_path) -> None:
    """Inductor compiles with torch's library calls in a kernel's process whatever the kernel set around the compile
    (``config.patch`` or ``options`` with keys built at run time, undone before the call ends): the compiled code
    dispatches ``aten::mm``, which the record holds (red-team round 30, aq01: the C++ wrapper called the GEMM through
    AOTInductor's shim, below the dispatcher). The control shows the hole without the hook."""
    ran = subprocess.run([sys.executable, "-c", PATCHED_AROUND_THE_COMPILE.format(hooked=hooked)], capture_output=True,
                         text=True, timeout=900, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "i")})
    assert ran.returncode == 0, ran.stderr[-3000:]
    held, recorded = ran.stdout.strip().splitlines()[-2:]
    if hooked:
        assert held == "None" and recorded == "['aten::mm']", ran.stdout
    else:
        assert recorded == "[]", ran.stdout
