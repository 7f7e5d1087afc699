"""The package beside the package_beside kernel."""
