"""Settings for this repository's own runs.

The plugin is registered by its entry point (pyproject's ``pytest11: solbench``); naming it here as well, in
``pytest_plugins``, would register it a second time and pytest would refuse to start.
"""

# Kernels and benchmark scripts are run by the plugin and by hand, never collected as test modules.
collect_ignore = ["benchmarks", "examples", "tests/redteam"]
