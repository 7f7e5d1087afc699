"""Named like the installed numpy."""
def zeros(n):
    return [0] * n
