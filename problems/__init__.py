"""The bundled problem library (FlashInfer Trace format); data only, nothing to import."""
