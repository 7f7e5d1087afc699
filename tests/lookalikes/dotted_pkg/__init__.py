"""A package kernel folder whose kernel file has a version in its name."""
