"""Problems captured from a user's own model: which ops matter, recording them under a dispatch mode, timing each,
and writing them as FlashInfer Trace problem folders ranked by where a kernel would pay off.

The user-facing entry is ``pytest_solbench.capture`` (a function, imported lazily by the package so that importing
the plugin costs nothing); this room is called ``captures`` so that its name never shadows that function.
"""
