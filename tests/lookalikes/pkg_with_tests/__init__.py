"""A package kernel folder: the kernel imports its helpers relatively."""
