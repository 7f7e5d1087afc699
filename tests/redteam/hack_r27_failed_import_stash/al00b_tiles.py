"""Tile helpers' shared state (a plain helper module of the kernel's folder)."""

state = {}
