"""pytest-solbench: GPU kernels checked against their reference and scored against the speed of light."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def capture(path: Any, model: str = "captured", hardware: str | None = None) -> Any:
    """Capture problems from your own model: ``with pytest_solbench.capture("my_problems/"): model(x)``.

    Records the ops worth a kernel, writes them as problems that ``pytest --solbench --solbench-problems
    my_problems/`` runs, and ranks them in ``my_problems/capture.md``. See
    ``pytest_solbench.captures.capture.capture``; torch is imported only when this is called.
    """
    from pytest_solbench.captures.capture import capture as _capture

    return _capture(path, model=model, hardware=hardware)
