"""Independent NumPy reference implementations of the kestrel ops.

Written from docs/ops.md and the papers it cites, never from the
compiler's lowerings: they are the oracle of the numeric tests. They compute
in float64 unless stated, so the tolerance of a test bounds the compiler's
error alone.
"""
