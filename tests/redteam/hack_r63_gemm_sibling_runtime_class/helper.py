"""A class bound at run time, not with a class statement."""
import numpy as np

Arr = type(np.empty(0))
