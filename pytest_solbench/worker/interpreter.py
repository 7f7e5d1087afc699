"""Triton's interpreter (CPU mode, ``TRITON_INTERPRET=1``) made to run what a GPU would.

Its autotuner times each configuration with the GPU driver's benchmarker, which the interpreter lacks: an honest
``@triton.autotune`` kernel failed on CPU with "0 active drivers" (red-team round 13, o16). Interpreted, every
configuration computes the same values and no timing among them means anything, so the autotuner takes its first
configuration (after the kernel's own pruning) without timing any. The GPU still tunes over all of them and checks
the one it picks.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def first_config_autotune(load: bool = False) -> bool:
    """Where Triton interprets and its autotuner is loaded (with ``load``, loaded here where Triton is installed:
    before a kernel's import, which may autotune), make every autotuner take its first configuration.
    Idempotent; True when the autotuner is (now) so."""
    if load and interpreting() and "triton.runtime.autotuner" not in sys.modules:
        try:
            import triton.runtime.autotuner  # noqa: F401
        except ImportError:
            return False
    autotuner = sys.modules.get("triton.runtime.autotuner")
    tuner = getattr(autotuner, "Autotuner", None)
    if not interpreting() or tuner is None or not hasattr(tuner, "prune_configs"):
        return False
    if not getattr(tuner.prune_configs, "_solbench_first", False):
        pruned = tuner.prune_configs

        def first(self: Any, *args: Any, **kwargs: Any) -> list:
            return list(pruned(self, *args, **kwargs))[:1]

        first._solbench_first = True  # type: ignore[attr-defined]
        tuner.prune_configs = first
    return True
