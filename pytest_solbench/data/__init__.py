"""What a problem is made of: the FlashInfer Trace schema, its expressions, dtypes, kernels and inputs."""
