"""The epsilon of the pkg_with_tests look-alike, as the reference has it."""
EPS = 1e-5
