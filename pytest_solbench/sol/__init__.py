"""Speed of light: the hardware table, the work a workload must do, its bound, measured ceilings, scores."""
