"""Helpers of the lazy_import look-alike."""
