"""Named like the installed torch: anything the kernel writes here hides the real one."""
