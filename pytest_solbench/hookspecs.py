"""Hooks a ``conftest.py`` (or another plugin) may implement to extend pytest-solbench."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_solbench_hardware(config: pytest.Config, device_name: str) -> Any:
    """Return the ``pytest_solbench.sol.hardware.Hardware`` row to compute bounds for, or None to use the table.

    Use it for a GPU the table lacks, or one run at another power limit::

        # conftest.py
        import dataclasses
        from pytest_solbench.sol.hardware import lookup

        def pytest_solbench_hardware(config, device_name):
            if "H100" in device_name:  # our cards are capped at 500 W
                return dataclasses.replace(lookup("h100_sxm"), key="h100_500w", dram_bandwidth_gb_s=3000.0)
    """


@pytest.hookspec
def pytest_solbench_result(config: pytest.Config, result: Any) -> None:
    """Called with each item's ``pytest_solbench.record.ItemResult`` as it arrives (on the xdist controller too).

    Push results to a dashboard as they come::

        # conftest.py
        def pytest_solbench_result(config, result):
            if result.score is not None:
                print(f"{result.problem} {result.workload_label}: {result.score:.3f}")
    """
