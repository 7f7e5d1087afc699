"""What runs in a kernel's worker process: the pool, one item's rounds, checks and timings, profiling."""
