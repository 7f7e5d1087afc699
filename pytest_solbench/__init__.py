"""pytest-solbench: GPU kernels checked against their reference and scored against the speed of light."""

from __future__ import annotations

__version__ = "0.1.0"
