"""Math helpers of the helper_module look-alike."""
