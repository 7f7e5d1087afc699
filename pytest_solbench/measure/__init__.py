"""Measuring on the GPU: the timing contract, clocks through NVML, the device as pytest sees it."""
